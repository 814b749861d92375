// `docker build -t app .`, done by buildah (Debian's 1.28) with tsrun as its OCI runtime: the
// Dockerfile's RUN steps execute in tsrun containers (--isolation oci --runtime tsrun; chroot
// isolation would not use a runtime at all). A multi-stage build compiles a C program with
// Debian's gcc in a stand-in build image, copies it into a busybox image, pushes that to the
// local registry; tsrun pulls it and runs it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pristineBusyboxRootfs } from '../fixtures/busybox';
import { gccLayerDir } from '../fixtures/gcc';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { leftovers, newRoot, TSRUN, tsrun } from '../helpers/tsrun';

let registry: Registry;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-buildah-'));
// buildah's own storage (vfs: no mounts to leave behind), run root and temp dir; tsrun's state
// root and log for the RUN steps, given through --runtime-flag.
const storage = ['--root', path.join(work, 'storage'), '--runroot', path.join(work, 'run'), '--storage-driver', 'vfs'];
const runtimeRoot = path.join(work, 'tsrun-root');
const runtimeLog = path.join(work, 'tsrun.log');
const env = { ...process.env, TMPDIR: path.join(work, 'tmp') };
fs.mkdirSync(env.TMPDIR, { recursive: true });

const HELLO_C = `#include <stdio.h>
int main(void) {
  printf("hello from a C program built by buildah, its RUN steps in tsrun containers\\n");
  return 0;
}
`;

function buildah(args: string[]): { code: number; out: string } {
  const r = spawnSync('buildah', [...storage, ...args], { encoding: 'utf8', env, timeout: 600_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test.before(async (t) => {
  t.timeout(5 * 60_000, 'a registry and the build images');
  registry = await startRegistry('plain');
  const layout = new OciLayout(path.join(work, 'oci'));
  const base = tarOfDir(pristineBusyboxRootfs());
  const env = ['PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  layout.tag('busybox', layout.image([base], { Cmd: ['sh'], Env: env }));
  layout.tag('gcc', layout.image([base, tarOfDir(gccLayerDir())], { Cmd: ['sh'], Env: env }));
  push(layout.dir, 'busybox', `${registry.addr}/tsrun-test/busybox:1`);
  push(layout.dir, 'gcc', `${registry.addr}/tsrun-test/gcc:12`);
});

test.after.always(async () => {
  buildah(['rmi', '--all', '--force']);
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('buildah bud --runtime tsrun: RUN steps in tsrun containers; the image is pushed, pulled by tsrun and run', (t) => {
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, 'hello.c'), HELLO_C);
  fs.writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${registry.addr}/tsrun-test/gcc:12 AS build`,
      'WORKDIR /src',
      'COPY hello.c .',
      'RUN gcc -O2 -static -o /hello hello.c && /hello',
      `FROM ${registry.addr}/tsrun-test/busybox:1`,
      'COPY --from=build /hello /usr/local/bin/hello',
      'RUN hello > /built-by-run.txt && echo "uid $(id -u) in $(hostname)"',
      'CMD ["hello"]',
      '',
    ].join('\n'),
  );
  const build = buildah([
    'bud',
    '--isolation',
    'oci',
    '--runtime',
    TSRUN,
    '--runtime-flag',
    `root=${runtimeRoot}`,
    '--runtime-flag',
    `log=${runtimeLog}`,
    '--runtime-flag',
    'debug',
    '--network',
    'none',
    '--tls-verify=false',
    '-t',
    'localhost/tsrun-test/app:1',
    ctx,
  ]);
  t.is(build.code, 0, build.out);
  // The RUN steps' own output, in the build's.
  t.regex(build.out, /STEP 4\/4: RUN gcc .*\nhello from a C program built by buildah, its RUN steps in tsrun containers\n/);
  t.regex(build.out, /\nuid 0 in \S+\n/);
  // tsrun ran them: each RUN is one container through its whole lifecycle, in tsrun's own log.
  const log = fs.readFileSync(runtimeLog, 'utf8');
  const steps = (kind: string): number => log.split('\n').filter((l) => new RegExp(`level=debug msg="\\[ *[\\d.]+ ms\\] ${kind} `).test(l)).length;
  t.is(steps('started'), 2, log.slice(-3000));
  t.is(steps('deleted'), 2);
  t.true(steps('pivot_root') === 2 && steps('seccomp') === 2, "namespaces, pivot_root and buildah's seccomp filter");
  t.false(/level=error/.test(log), log);
  t.deepEqual(fs.existsSync(runtimeRoot) ? fs.readdirSync(runtimeRoot) : [], [], 'no container left with the runtime');

  const dest = `${registry.addr}/tsrun-test/app:1`;
  const pushed = buildah(['push', '--quiet', '--tls-verify=false', 'localhost/tsrun-test/app:1', `docker://${dest}`]);
  t.is(pushed.code, 0, pushed.out);

  const root = newRoot();
  const store = path.join(work, 'store');
  t.is(tsrun(root, ['--store', store, 'pull', '-q', dest]).code, 0);
  const bundle = path.join(work, 'bundle');
  t.is(tsrun(root, ['--store', store, 'bundle', dest, bundle]).code, 0);
  t.is(
    fs.readFileSync(path.join(bundle, 'rootfs', 'built-by-run.txt'), 'utf8'),
    'hello from a C program built by buildah, its RUN steps in tsrun containers\n',
    'what the RUN step wrote is in the image',
  );
  const run = tsrun(root, ['--store', store, 'run', `${bundle}/`]);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'hello from a C program built by buildah, its RUN steps in tsrun containers\n');
  t.is(tsrun(root, ['--store', store, 'bundle', '--remove', bundle]).code, 0);
  t.deepEqual(
    fs.readdirSync(root).flatMap((id) => leftovers(root, id)),
    [],
  );
});
