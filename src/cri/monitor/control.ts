// DIR/ctl.sock: one line per command, answered "ok" or "error MESSAGE".
import { TsrunError, type ErrorCode } from '../../common/errors';
import { MonitorFile, connectUnix } from './files';

async function command(dir: string, line: string, code: ErrorCode): Promise<void> {
  const sock = await connectUnix(dir, MonitorFile.ctl);
  const reply = await new Promise<string>((resolve, reject) => {
    let text = '';
    sock.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    sock.on('error', (e) => reject(new TsrunError('TSRUN_E_SYS', `${line} on ${dir}/${MonitorFile.ctl}: ${e.message}`)));
    sock.on('close', () => reject(new TsrunError('TSRUN_E_STATE', `the monitor in ${dir} closed ctl.sock without answering ${line}`)));
    sock.write(line + '\n');
  }).finally(() => sock.destroy());
  if (reply === 'ok') return;
  throw new TsrunError(code, `${line}: ${reply.replace(/^error /, '')} (monitor in ${dir})`);
}

/** Kubelet rotated the log (renamed it away): the monitor starts writing a new file. */
export function reopenLog(dir: string): Promise<void> {
  return command(dir, 'reopen', 'TSRUN_E_SYS');
}

export function resizeTty(dir: string, rows: number, cols: number): Promise<void> {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (!ok(rows) || !ok(cols)) return Promise.reject(new TsrunError('TSRUN_E_USAGE', `resize ${rows}x${cols}: rows and cols must be integers from 0 to 65535`));
  return command(dir, `resize ${rows} ${cols}`, 'TSRUN_E_STATE');
}

/**
 * The container's init gets signal `signo` from its monitor, which reaped it if it has exited and
 * so never signals a reused pid. Rejects (TSRUN_E_STATE) once the container has exited.
 */
export function signalInit(dir: string, signo: number): Promise<void> {
  if (!Number.isInteger(signo) || signo <= 0 || signo > 64) return Promise.reject(new TsrunError('TSRUN_E_USAGE', `signal ${signo}: not a signal number`));
  return command(dir, `signal ${signo}`, 'TSRUN_E_STATE');
}
