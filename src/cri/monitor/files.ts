// Where things are: the monitor binary and the files it keeps in its directory (one directory
// per container, chosen by the CRI server).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { TsrunError, isErrnoError } from '../../common/errors';
import { isSameProcessAlive, readProcStat } from '../../runtime/proc';
import type { MonitorProcess } from '../store/types';

export { MONITOR_BINARY } from '../../sys/native';

export const MonitorFile = {
  exit: 'exit.json',
  attach: 'attach.sock',
  ctl: 'ctl.sock',
  monitorLog: 'monitor.log',
} as const;

// sun_path holds 108 bytes with its NUL.
const MAX_SOCKET_PATH = 107;

/**
 * Connects to DIR/NAME. A path too long for a unix socket address is reached through
 * /proc/self/fd/N/NAME of an fd on DIR, as the monitor does when it binds.
 */
export function connectUnix(dir: string, name: string): Promise<net.Socket> {
  const direct = path.join(dir, name);
  let dirFd: number | undefined;
  let target = direct;
  if (Buffer.byteLength(direct) > MAX_SOCKET_PATH) {
    dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    target = `/proc/self/fd/${dirFd}/${name}`;
  }
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(target);
    const done = (): void => {
      if (dirFd !== undefined) fs.closeSync(dirFd);
      dirFd = undefined;
    };
    sock.once('connect', () => {
      done();
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (e) => {
      done();
      if (isErrnoError(e, 'ENOENT') || isErrnoError(e, 'ECONNREFUSED'))
        reject(new TsrunError('TSRUN_E_STATE', `no monitor is listening on ${direct} (the container has exited or was never created)`));
      else reject(new TsrunError('TSRUN_E_SYS', `connect to ${direct}: ${e.message}`));
    });
  });
}

/** The monitor as a record keeps it. */
export function monitorOf(m: { monitorPid: number }): MonitorProcess {
  return { pid: m.monitorPid, startTime: readProcStat(m.monitorPid)?.startTime };
}

/**
 * Whether a container's monitor is still there to record its exit. Records older than the
 * monitor's pid are judged by its control socket, which it removes as it ends and which a
 * reboot (the run dir emptied) takes too.
 */
export function monitorAlive(dir: string, m: MonitorProcess | undefined): boolean {
  if (m) return isSameProcessAlive(m.pid, m.startTime);
  return fs.existsSync(path.join(dir, MonitorFile.ctl));
}
