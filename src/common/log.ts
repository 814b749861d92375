// runc-style logging: --log FILE, --log-format text|json. Errors always reach stderr too;
// containerd's shim reads the last "error" line of a JSON log to explain a failure.
import * as fs from 'node:fs';

type Level = 'debug' | 'info' | 'warning' | 'error';

let fd: number | undefined;
let json = false;
let debugEnabled = false;

export function configureLog(opts: { file?: string; format?: string; debug?: boolean }): void {
  if (opts.file) fd = fs.openSync(opts.file, 'a', 0o600);
  json = opts.format === 'json';
  debugEnabled = !!opts.debug;
}

function write(level: Level, msg: string, toStderr: boolean, fields?: Record<string, unknown>): void {
  const time = new Date().toISOString();
  const line = json ? JSON.stringify({ level, msg, time, ...fields }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  if (fd !== undefined) fs.writeSync(fd, line);
  // In the JSON format stderr gets the same record, so a calling program can read the error's code.
  if (toStderr || fd === undefined) process.stderr.write(json ? line : `tsrun: ${level === 'info' ? '' : level + ': '}${msg}\n`);
}

export const logDebug = (msg: string): void => {
  if (debugEnabled) write('debug', msg, false);
};
/** A debug line that carries structured fields in the JSON format (the step events). */
export const logDebugFields = (msg: string, fields: Record<string, unknown>): void => {
  if (debugEnabled) write('debug', msg, false, fields);
};
export const logWarn = (msg: string): void => write('warning', msg, false);
/** An error the command ends with: in the log file and on stderr. */
export const logError = (msg: string, code?: string): void => write('error', msg, true, code ? { code } : undefined);
