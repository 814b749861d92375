// --preserve-fds N hands fds 3..3+N-1 to the container, and each must be one the caller passed.
// When a caller passes fewer, the gap is filled by whatever tsrun itself holds there: Node's
// event loop (epoll, eventfds, its signal pipe) and, later, the state dir's lock. Given to the
// container, those keep the lock (delete --force hangs) and open the host state dir to it.
// Close-on-exec cannot tell them apart (Node sets it on every inherited fd as it starts), so the
// fd table is read as the CLI starts, before tsrun opens anything (--log's file, the lock), and
// Node's own kinds in it are refused by name.
import * as fs from 'node:fs';
import { TsrunError } from '../common/errors';

const NODE_OWN = new Set(['anon_inode:[eventpoll]', 'anon_inode:[eventfd]']);

function target(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

let atEntry: Map<number, string> | undefined;

function fdTable(): Map<number, string> {
  const open = new Map<number, string>();
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const t = target(Number(name));
    if (t !== undefined) open.set(Number(name), t);
  }
  return open;
}

/** The CLI calls this first, when --preserve-fds is on its command line. */
export function noteFdsAtEntry(): void {
  atEntry ??= fdTable();
}

/** Throws unless fds 3..3+n-1 were open at entry and none is one of Node's own. */
export function checkPassedFds(n: number): void {
  if (n <= 0) return;
  const open = atEntry ?? fdTable();
  const pipeEnds = new Map<string, number>();
  for (const t of open.values()) if (t.startsWith('pipe:')) pipeEnds.set(t, (pipeEnds.get(t) ?? 0) + 1);
  const hint = `pass fds 3..${2 + n} to tsrun, or a smaller --preserve-fds`;
  for (let fd = 3; fd < 3 + n; fd++) {
    const t = open.get(fd);
    if (t === undefined) throw new TsrunError('TSRUN_E_USAGE', `--preserve-fds ${n}: fd ${fd} is not open; ${hint}`);
    // Node's loop holds both ends of its own pipes; a pipe passed in has its other end elsewhere.
    if (NODE_OWN.has(t) || (pipeEnds.get(t) ?? 0) > 1)
      throw new TsrunError('TSRUN_E_USAGE', `--preserve-fds ${n}: fd ${fd} (${t}) was not passed by the caller, it is tsrun's own; ${hint}`);
  }
}
