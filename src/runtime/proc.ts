// What /proc says about a process: alive, zombie, when it started (to tell a reused pid apart).
import * as fs from 'node:fs';

export interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, ppid: Number(f[1]), startTime: f[19]! };
}

/** Alive and the same process as recorded (not a zombie, not a reused pid). */
export function isSameProcessAlive(pid: number, startTime: string | undefined): boolean {
  if (pid <= 0) return false;
  const st = readProcStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X' && (startTime === undefined || st.startTime === startTime);
}

/**
 * The processes in the PID namespace of `pid` (its own, so the container's), as far as we may
 * see them: for a rootless container with no cgroup of its own, the only list of its processes.
 */
export function pidsInNamespaceOf(pid: number): number[] {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    if (ns === fs.readlinkSync('/proc/self/ns/pid')) return [pid]; // not a namespace of its own
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readlinkSync(`/proc/${e}/ns/pid`) === ns) out.push(Number(e));
    } catch {
      /* gone, or not ours to look at */
    }
  }
  return out;
}
