// `tsrun spec` writes runc's default process: an interactive `sh` on a terminal. Run from a
// script or a CI job, whose stdin is no terminal, that shell sits waiting for input: say so.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isatty } from 'node:tty';
import { logWarn } from '../common/log';

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh', 'mksh']);

/** A shell with no script to run (`sh`, `/bin/bash -i`, `sh -l`): it reads commands from stdin. */
export function isInteractiveShell(args: readonly string[] | undefined): boolean {
  if (!args?.length || !SHELLS.has(path.basename(args[0]!))) return false;
  return args.slice(1).every((a) => /^-[il]+$/.test(a));
}

export function warnIfShellWaits(bundle: string): void {
  if (isatty(0)) return;
  let proc: { terminal?: boolean; args?: string[] } | undefined;
  try {
    proc = (JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process?: typeof proc }).process;
  } catch {
    return; // the runtime's own loading says what is wrong with it
  }
  if (!proc?.terminal || !isInteractiveShell(proc.args)) return;
  logWarn(
    `the process is \`${proc.args!.join(' ')}\` with a terminal (process.terminal in config.json, as \`tsrun spec\` writes it): ` +
      'an interactive shell waiting for input, and stdin is not a terminal. To run a command, set process.args ' +
      '(e.g. ["sh", "-c", "echo hello"]) and "terminal": false in config.json, or make the bundle with its command: ' +
      'tsrun bundle IMAGE DIR -- CMD [ARG...]',
  );
}
