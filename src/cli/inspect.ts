import type { InspectTexts } from '../events/catalog/types';
import { pickLang, INSPECT_TEXTS } from '../events/narrate';
import { inspectContainer, type Inspection } from '../runtime/inspect';
import { bool, needId, parseCommand, str } from './args';
import type { Globals } from './globals';
import { bytes } from './units';

/** No limit: "max" on v2, a page-rounded 2^63 on v1. */
const unlimited = (n: number): boolean => n >= Number.MAX_SAFE_INTEGER || n >= 2 ** 62;

function mountLines(mounts: Inspection['mounts']): string[] {
  const w = Math.max(...mounts.map((m) => m.target.length), 4) + 2;
  const t = Math.max(...mounts.map((m) => m.fstype.length), 4) + 2;
  return mounts.map((m) => {
    if (m.masked) return `  ${m.target.padEnd(w)}${'masked'.padEnd(t)}${m.masked === 'file' ? '/dev/null bound over the file' : 'an empty read-only tmpfs over the directory'}`;
    // The mount's own options, then the filesystem's (what all its mounts share), as the kernel reports them.
    return `  ${m.target.padEnd(w)}${m.fstype.padEnd(t)}${m.options}${m.superOptions ? `  (${m.fstype}: ${m.superOptions})` : ''}`;
  });
}

function render(i: Inspection, explain: ((section: keyof InspectTexts) => string) | undefined): string {
  const out: string[] = [];
  const section = (name: keyof InspectTexts, title: string): void => {
    out.push(title);
    if (explain) out.push(`  # ${explain(name)}`);
  };
  out.push(`container ${i.id}: ${i.status}, pid ${i.pid}`);
  section('namespaces', 'namespaces (container vs host):');
  for (const n of i.namespaces) out.push(`  ${n.type.padEnd(8)} ${(n.container || '-').padEnd(24)} ${n.host.padEnd(24)} ${!n.container ? '' : n.shared ? 'shared with the host' : 'own'}`.trimEnd());
  section('cgroup', `cgroup ${i.cgroup.path}:`);
  const mem = i.cgroup.memory;
  out.push(`  memory  ${bytes(mem.usage)} used, ${unlimited(mem.limit) ? 'no limit' : `limit ${bytes(mem.limit)}`}`);
  out.push(`  pids    ${i.cgroup.pids.current} running, ${unlimited(i.cgroup.pids.limit) || i.cgroup.pids.limit <= 0 ? 'no limit' : `limit ${i.cgroup.pids.limit}`}`);
  out.push(`  cpu     ${(i.cgroup.cpu.usageNs / 1e6).toFixed(1)} ms used, throttled in ${i.cgroup.cpu.throttledPeriods} periods`);
  section('capabilities', 'capabilities:');
  for (const [set, caps] of Object.entries(i.capabilities)) out.push(`  ${set.padEnd(11)} ${caps.length ? caps.join(' ') : '(none)'}`);
  section('seccomp', `seccomp: ${i.seccomp}; no_new_privs: ${i.noNewPrivs ? 'yes' : 'no'}`);
  section('mounts', 'mounts (seen from inside):');
  if (i.mounts.length) out.push(...mountLines(i.mounts));
  if (i.layers.length) {
    section('layers', 'root overlay layers (top first):');
    for (const l of i.layers) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}

export function inspect(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('inspect', argv);
  const i = inspectContainer(g.root, needId(args, 'inspect'));
  // JSON keeps the exact numbers (bytes, nanoseconds) for programs.
  if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(i, null, 2) + '\n');
  else {
    const lang = pickLang(str(flags['lang']));
    process.stdout.write(render(i, bool(flags['explain']) ? (s) => INSPECT_TEXTS[lang][s] : undefined));
  }
  return 0;
}
