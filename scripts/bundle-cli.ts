// Build step after tsc (npm run build:ts): the CLI's lifecycle verbs bundled into one file,
// dist/src/cli/tsrun.bundle.js, with a V8 code cache beside it (tsrun.bundle.cache) that
// bin/tsrun hands to V8, so a start-up neither resolves dozens of modules nor parses and
// compiles their code (issue 16; what each way measured is in README "Where the time goes").
//
// In the bundle: our lifecycle code and zod. Left out, loaded from node_modules or dist/ when
// used: the verbs that pull or serve (pull, images, rmi, prune, bundle, cri, inspect; bin/tsrun
// runs them from the module tree, never from the bundle), undici, tar-stream and gRPC.
// The bundle sits in dist/src/cli, as deep as dist/src/sys: paths built from __dirname
// (src/sys/native.ts's PROJECT_ROOT) resolve as they do unbundled.
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { wrap } from 'node:module';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli');
export const BUNDLE = path.join(CLI, 'tsrun.bundle.js');
export const CACHE = path.join(CLI, 'tsrun.bundle.cache');
/** The modules of the verbs bin/tsrun runs from the module tree (images.ts also has rmi, prune). */
const COLD_MODULES = ['pull', 'images', 'bundle', 'cri', 'inspect'];

function bundle(): void {
  buildSync({
    entryPoints: [path.join(CLI, 'main.js')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    external: ['@grpc/*', 'undici', 'tar-stream', ...COLD_MODULES.map((m) => `./${m}`)],
  });
}

/**
 * V8's code cache of the bundle with every function compiled (eagerly, as --no-lazy would),
 * not only the top level: a verb then runs bytecode straight from the cache. The flag is set
 * only while compiling, so the cache carries the flags bin/tsrun runs with (V8 refuses a cache
 * made under other flags, or by another V8: then tsrun compiles as usual, only slower).
 */
function codeCache(): number {
  const source = fs.readFileSync(BUNDLE, 'utf8');
  v8.setFlagsFromString('--no-lazy');
  let script: vm.Script;
  try {
    script = new vm.Script(wrap(source), { filename: BUNDLE });
  } finally {
    v8.setFlagsFromString('--lazy');
  }
  const data = script.createCachedData();
  fs.writeFileSync(CACHE, data);
  return data.length;
}

bundle();
const bytes = codeCache();
// A cache V8 would refuse is worth nothing: check it the way bin/tsrun loads it.
const check = new vm.Script(wrap(fs.readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData: fs.readFileSync(CACHE) });
if (check.cachedDataRejected) {
  fs.rmSync(CACHE, { force: true });
  process.stderr.write('bundle-cli: V8 refused the code cache it just made; bin/tsrun runs the bundle without one\n');
} else
  process.stdout.write(
    `bundle-cli: ${path.relative(ROOT, BUNDLE)} (${(fs.statSync(BUNDLE).size / 1024).toFixed(0)} KiB) and its code cache (${(bytes / 1024).toFixed(0)} KiB)\n`,
  );
