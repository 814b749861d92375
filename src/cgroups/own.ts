// The caller's own cgroups, from /proc/self/cgroup: where a rootless container is placed (a
// delegated subtree is the parent of the caller's cgroup on v2, as runc places it), and what
// it stays in when it may not have one of its own.
import * as fs from 'node:fs';

/** "hierarchy-id:controllers:path" lines -> path by controller list ("" for the v2 tree). */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    out[line.slice(first + 1, second)] = line.slice(second + 1);
  }
  return out;
}

export function ownCgroups(): Record<string, string> {
  return parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
}
