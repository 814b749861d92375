// Starting a container's monitor: it spawns the native init with the container's stdio and
// with the init's end of the sync socket (the server's end is fd 4's other side); the server
// validates, compiles and speaks the sync protocol in-process (the runtime's own create), then
// hands the init's pid to the monitor, which answers on fd 3 that it serves the container, and
// lives on, detached, until the container exits.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { TsrunError } from '../../common/errors';
import { INIT_BINARY } from '../../sys/native';
import { MONITOR_BINARY, MonitorFile } from './files';

/** What the monitor holds for the container: its directory, its log, its stdio. */
export interface IoOptions {
  id: string;
  /** the monitor's own directory: sockets, pid, exit.json, logs of the runtime and monitor */
  dir: string;
  /** the CRI log file (kubelet's); without it the output is drained and dropped */
  logPath?: string;
  /** process.terminal is true in the bundle: the output comes from a pty */
  tty?: boolean;
  /** keep a stdin open that attach clients write to */
  stdin?: boolean;
  /** close that stdin when the first client that wrote to it goes away */
  stdinOnce?: boolean;
}

export interface StartedMonitor {
  /** the container init's pid (waiting on the exec fifo until start) */
  pid: number;
  monitorPid: number;
}

type Report = { pid: number } | { error: string };

function ioArgs(o: IoOptions): string[] {
  const args: string[] = [];
  if (o.logPath) args.push('--log-path', path.resolve(o.logPath));
  if (o.tty) args.push('--tty');
  if (o.stdin) args.push('--stdin');
  if (o.stdinOnce) args.push('--stdin-once');
  args.push('--sync-fd', '3');
  return args;
}

/** A monitor waiting for the server's create: the init it spawned speaks on initSync. */
export interface LaunchedMonitor {
  child: ChildProcess;
  /** the server's end of the init's sync socket */
  initSync: Socket;
  /** resolves when the init's sync socket closes (its stages are done with it) */
  initClosed: Promise<number>;
  /** create is over: the monitor takes the init (`pid`) and reports that it serves it */
  adopt(pid: number): Promise<StartedMonitor>;
  /** create failed: the monitor hangs up, removes its sockets and exits */
  abandon(): Promise<void>;
}

export function launchMonitor(o: IoOptions): LaunchedMonitor {
  const dir = path.resolve(o.dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const args = ['--id', o.id, '--init', INIT_BINARY, '--init-sync-fd', '4', '--dir', dir, ...ioArgs(o)];
  const child = spawn(MONITOR_BINARY, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], cwd: '/', env: {} });
  const initSync = child.stdio[4] as Socket;
  const initClosed = new Promise<number>((resolve) => initSync.once('close', () => resolve(255)));
  const report = readReport(child, dir);
  report.catch(() => undefined);
  return {
    child,
    initSync,
    initClosed,
    async adopt(pid: number): Promise<StartedMonitor> {
      (child.stdio[3] as Socket).write(`${JSON.stringify({ pid })}\n`);
      const r = await report;
      if ('pid' in r && r.pid === pid) {
        child.unref();
        return { pid, monitorPid: child.pid! };
      }
      await exitOf(child, 5000);
      throw new TsrunError('TSRUN_E_INIT', 'error' in r && typeof r.error === 'string' ? r.error : `tsrun-monitor reported ${JSON.stringify(r)}`);
    },
    async abandon(): Promise<void> {
      (child.stdio[3] as Socket).destroy();
      (child.stdio[4] as Socket).destroy();
      await exitOf(child, 5000);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function readReport(child: ChildProcess, dir: string): Promise<Report> {
  const sync = child.stdio[3] as Readable;
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      sync.destroy();
      fn();
    };
    child.once('error', (e) => settle(() => reject(new TsrunError('TSRUN_E_SYS', `start ${MONITOR_BINARY}: ${e.message}`))));
    sync.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        const parsed = JSON.parse(text.slice(0, nl)) as Report;
        settle(() => resolve(parsed));
      } catch {
        settle(() => reject(new TsrunError('TSRUN_E_SYS', `tsrun-monitor wrote a malformed report: ${text.slice(0, nl)}`)));
      }
    });
    sync.on('error', () => undefined);
    sync.on('close', () =>
      settle(() => reject(new TsrunError('TSRUN_E_SYS', `tsrun-monitor exited without reporting${lastLine(path.join(dir, MonitorFile.monitorLog))}`))),
    );
  });
}

function lastLine(file: string): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    return lines.length && lines[lines.length - 1] ? `: ${lines[lines.length - 1]}` : '';
  } catch {
    return '';
  }
}

function exitOf(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
