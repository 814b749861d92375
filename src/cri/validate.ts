// Checks on what a CRI request names, made before anything is created, so that bad input is
// an InvalidArgument naming the field, not a failure deep in CNI or the runtime. Kubernetes
// never sends names past 253 bytes (DNS subdomains) nor control characters.
import * as path from 'node:path';
import { invalid } from './errors';

export const MAX_NAME_BYTES = 253;

/**
 * Bytes that were not UTF-8 on the wire come out of the proto decoder as U+FFFD (or, from some
 * encoders, as lone surrogates): neither is a name Kubernetes makes or a path a host has.
 */
function wellFormed(s: string): boolean {
  return !/\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** A name as metadata carries it: present, at most 253 bytes, printable, well-formed UTF-16. */
export function checkName(field: string, value: string | undefined): string {
  if (!value) throw invalid(`${field} is required`);
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) throw invalid(`${field}: ${Buffer.byteLength(value)} bytes, more than ${MAX_NAME_BYTES}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${field} ${JSON.stringify(value.slice(0, 64))}: holds a control character`);
  if (!wellFormed(value)) throw invalid(`${field}: not valid UTF-8`);
  return value;
}

/**
 * The container's log file: log_path is relative to the pod's log_directory and must stay in
 * it (a "../" would have the monitor write anywhere on the host). Returns the full path, or ''.
 */
export function logFile(logDirectory: string, logPath: string): string {
  if (!logDirectory || !logPath) return '';
  if (!path.isAbsolute(logDirectory)) throw invalid(`log_directory ${JSON.stringify(logDirectory)}: must be an absolute path`);
  if (logDirectory.split('/').includes('..')) throw invalid(`log_directory ${JSON.stringify(logDirectory)}: must not contain ".."`);
  checkPath('log_path', logPath);
  if (path.isAbsolute(logPath)) throw invalid(`log_path ${JSON.stringify(logPath)}: must be relative to the pod's log_directory`);
  const dir = path.resolve(logDirectory);
  const full = path.resolve(dir, logPath);
  if (!full.startsWith(dir + path.sep)) throw invalid(`log_path ${JSON.stringify(logPath)}: leaves the pod's log_directory ${JSON.stringify(logDirectory)}`);
  return full;
}

/** A path field: no NUL (the kernel would cut it there), bounded, well-formed. */
export function checkPath(field: string, value: string): string {
  if (value.includes('\0')) throw invalid(`${field}: holds a NUL byte`);
  if (Buffer.byteLength(value) > 4096) throw invalid(`${field}: longer than PATH_MAX (4096 bytes)`);
  if (!wellFormed(value)) throw invalid(`${field}: not valid UTF-8`);
  return value;
}
