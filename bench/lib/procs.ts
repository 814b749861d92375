// What the runtime's own processes cost in memory, read from /proc: VmRSS (resident, counting
// shared pages in full for each process) and Pss (shared pages divided among their users, so
// a sum over many shims of one binary is not inflated), from /proc/PID/smaps_rollup.
import * as fs from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
}

function read(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

export function proc(pid: number): Proc | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const cmd = read(`/proc/${pid}/cmdline`);
  if (!stat || cmd === undefined) return undefined;
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const ppid = Number(stat.slice(close + 2).split(' ')[1]);
  return { pid, ppid, comm, cmdline: cmd.split('\0').filter(Boolean) };
}

export function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = proc(Number(d));
    if (p) out.push(p);
  }
  return out;
}

/** pid and everything below it. */
export function descendants(root: number, procs = allProcs()): Set<number> {
  const set = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (!set.has(p.pid) && set.has(p.ppid)) {
        set.add(p.pid);
        grew = true;
      }
  }
  return set;
}

export interface Mem {
  rssKiB: number;
  pssKiB: number;
}

/** VmRSS and Pss of one process in KiB; zeros if it is gone. */
export function mem(pid: number): Mem {
  const roll = read(`/proc/${pid}/smaps_rollup`) ?? '';
  const status = read(`/proc/${pid}/status`) ?? '';
  const field = (text: string, name: string): number => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { rssKiB: field(status, 'VmRSS'), pssKiB: field(roll, 'Pss') };
}

export function sumMem(pids: number[]): Mem {
  const t = { rssKiB: 0, pssKiB: 0 };
  for (const p of pids) {
    const m = mem(p);
    t.rssKiB += m.rssKiB;
    t.pssKiB += m.pssKiB;
  }
  return t;
}
