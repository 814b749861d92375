// Starts the native init (tsrun-init) with the plan on its sync socket. Node's spawn is a
// fork+exec, safe from a multi-threaded process; no JavaScript runs in the child.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Plan } from '../oci/plan';
import { encodePlan } from '../oci/plan-encode';
import { INIT_BINARY } from '../sys/native';
import { FrameType, SyncChannel } from './sync';

export interface InitProcess {
  /** the runtime stage (A); in the foreground it exits with the container's status */
  child: ChildProcess;
  sync: SyncChannel;
  exited: Promise<number>;
  /** a failed create or exec: ends what was started (whoever started it) */
  stop(): void;
}

/** What fds 0-2 of the process are: ours (the CLI), or pipes and fds a caller in-process gives. */
export type InitStdio = [StdioEntry, StdioEntry, StdioEntry];
type StdioEntry = number | 'inherit' | 'pipe' | 'ignore';

export function spawnInit(plan: Plan, containerId: string, stdio0: InitStdio = ['inherit', 'inherit', 'inherit']): InitProcess {
  const syncFd = 3 + plan.preserveFds;
  const stdio: StdioEntry[] = [...stdio0];
  for (let fd = 3; fd < syncFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const child = spawn(INIT_BINARY, [], { stdio, env: { _TSRUN_SYNC_FD: String(syncFd) }, argv0: 'tsrun-init' });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    child.on('error', () => resolve(255));
  });
  const stop = (): void => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  return { child, sync: sendPlan(child.stdio[syncFd] as Socket, plan, containerId), exited, stop };
}

/** Opens the sync protocol with an init on `sock` (however it was started): the plan goes first. */
export function sendPlan(sock: Socket, plan: Plan, containerId: string): SyncChannel {
  const sync = new SyncChannel(sock, containerId);
  sync.send(FrameType.Plan, encodePlan(plan));
  return sync;
}

function signalNumber(name: NodeJS.Signals): number {
  return (require('node:os') as typeof import('node:os')).constants.signals[name] ?? 0;
}
