// Errors that say what to do: the mistakes people make with a runtime's command line (a
// directory where an id goes, a bundle name without its slash, an id in use, not root), each
// caught before anything is made and answered with the command that does what was meant.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { generateId } from '../common/ids';

/** How to make a bundle in `dir`. */
const makeABundle = (dir = 'DIR'): string =>
  'a bundle is a directory with config.json and a root filesystem: make one from an image with ' +
  `\`tsrun bundle IMAGE ${dir}\` (after \`tsrun pull IMAGE\`), or put a root filesystem in ${path.join(dir, 'rootfs')} and run \`tsrun spec\` in ${dir}`;

/** An argument meant as a directory: it has a slash, or is . or .. */
const looksLikePath = (s: string): boolean => s.includes('/') || s === '.' || s === '..';

const hasConfig = (dir: string): boolean => fs.existsSync(path.join(dir, 'config.json'));

/**
 * The container id and bundle of `run`/`create`: `ID` with `-b DIR` (default: the current
 * directory), or for run the short form `DIR/` under a generated id. Wrong forms are refused
 * here with the form that works.
 */
export function idAndBundle(verb: 'run' | 'create', args: string[], bundleFlag: string | undefined): { id: string; bundle: string } {
  const first = args[0];
  if (!first) throw new TsrunError('TSRUN_E_USAGE', `"${verb}" requires a container id${verb === 'run' ? ' (or a bundle directory: tsrun run DIR/)' : ''}`);
  if (looksLikePath(first) && !bundleFlag) {
    if (!fs.existsSync(first))
      throw new TsrunError('TSRUN_E_BUNDLE', `${first}: no such directory (a container id has no slash; a bundle directory must exist)`);
    if (!fs.statSync(first).isDirectory()) throw new TsrunError('TSRUN_E_BUNDLE', `${first}: not a directory; ${makeABundle()}`);
    if (!hasConfig(first)) throw new TsrunError('TSRUN_E_BUNDLE', `${first} has no config.json; ${makeABundle(first)}`);
    if (verb === 'create') throw new TsrunError('TSRUN_E_USAGE', `"create" takes a container id and the bundle with -b: tsrun create -b ${first} ID`);
  }
  if (args.length > 1) {
    const rest = args.slice(1).join(' ');
    throw new TsrunError(
      'TSRUN_E_USAGE',
      `"${verb}" takes one argument, not a command ("${rest}"): the command is process.args in the bundle's config.json. ` +
        `To run another one, make the bundle with it (tsrun bundle IMAGE DIR -- ${rest}) or edit process.args`,
    );
  }
  if (looksLikePath(first) && !bundleFlag) {
    const bundle = first;
    return { id: `${path.basename(path.resolve(bundle))}-${generateId().slice(0, 8)}`, bundle };
  }
  const bundle = bundleFlag ?? '.';
  if (!hasConfig(bundle)) {
    const where = bundleFlag ? `${bundle}` : 'the current directory (the bundle when -b is not given)';
    // `tsrun run mybundle`: the name of a bundle directory where the id goes.
    if (!bundleFlag && hasConfig(first))
      throw new TsrunError(
        'TSRUN_E_BUNDLE',
        `no config.json in ${where}, but ./${first} holds one: run it with \`tsrun ${verb} ${verb === 'run' ? `./${first}/\`` : `-b ${first} ID\``}${verb === 'run' ? ` (a generated id) or \`tsrun run -b ${first} ID\`` : ''}`,
      );
    throw new TsrunError('TSRUN_E_BUNDLE', `no config.json in ${where}; ${makeABundle(bundleFlag)}`);
  }
  return { id: first, bundle };
}

/** What to do with a container whose id is wanted again, by its status. */
export function existsAdvice(id: string, status: string | undefined): string {
  if (status === 'creating') return `it is left in "creating" by a create that did not finish (a killed tsrun): remove it with \`tsrun delete --force ${id}\``;
  if (status === 'stopped') return `it has stopped: remove it with \`tsrun delete ${id}\`, or choose another id`;
  return `it is ${status ?? 'there'}: stop and remove it with \`tsrun delete --force ${id}\`, or choose another id`;
}

/** Permission errors of a caller who is not root: the runtime needs root (or a rootless bundle), say so. */
export function notRootAdvice(e: unknown, verb: string | undefined): TsrunError | undefined {
  if (process.getuid?.() === 0) return undefined;
  // Already said what to do (a rootless caller's state root, issue 18).
  if (e instanceof TsrunError && e.code === 'TSRUN_E_PERMISSION') return undefined;
  const code = (e as NodeJS.ErrnoException).code;
  const errno = e instanceof TsrunError ? e.errno : undefined;
  const denied =
    code === 'EACCES' ||
    code === 'EPERM' ||
    errno === 1 ||
    errno === 13 ||
    /\b(EACCES|EPERM)\b|permission denied|operation not permitted/i.test((e as Error).message ?? '');
  if (!denied) return undefined;
  return new TsrunError(
    'TSRUN_E_PERMISSION',
    `tsrun${verb ? ` ${verb}` : ''} needs root: it makes namespaces, cgroups and mounts and keeps its state in /run/tsrun and /var/lib/tsrun ` +
      `(as an ordinary user only rootless containers run: a bundle from tsrun spec --rootless, state under $XDG_RUNTIME_DIR/tsrun). ` +
      `Run it as root (e.g. sudo tsrun ${verb ?? ''} ...). (${(e as Error).message})`,
  );
}
