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
}

export function spawnInit(plan: Plan, containerId: string): InitProcess {
  const syncFd = 3 + plan.preserveFds;
  const stdio: (number | 'inherit' | 'pipe')[] = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < syncFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const child = spawn(INIT_BINARY, [], { stdio, env: { _TSRUN_SYNC_FD: String(syncFd) }, argv0: 'tsrun-init' });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    child.on('error', () => resolve(255));
  });
  const sync = new SyncChannel(child.stdio[syncFd] as Socket, containerId);
  sync.send(FrameType.Plan, encodePlan(plan));
  return { child, sync, exited };
}

function signalNumber(name: NodeJS.Signals): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:os') as typeof import('node:os')).constants.signals[name] ?? 0;
}
