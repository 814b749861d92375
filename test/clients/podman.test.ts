// podman (Debian's 4.3, with conmon) drives tsrun unchanged: `podman --runtime`.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxOciLayout } from '../fixtures/oci-image';
import { TSRUN } from '../helpers/tsrun';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-podman-'));
// This host lacks CAP_SYS_RESOURCE: podman's default rlimits would raise hard limits.
const GLOBAL = ['--root', `${work}/storage`, '--runroot', `${work}/run`, '--runtime', TSRUN, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const RUN = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

function podman(args: string[]): { code: number; out: string } {
  const r = spawnSync('podman', [...GLOBAL, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const image = (): string => `oci:${busyboxOciLayout().layout}:latest`;

test.serial('podman run: output and exit code', (t) => {
  const r = podman(['run', '--rm', ...RUN, image(), 'sh', '-c', 'echo hello from podman; exit 5']);
  t.is(r.code, 5, r.out);
  t.regex(r.out, /hello from podman/);
});

test.serial('podman run -t: conmon gets the pty through the console socket', (t) => {
  const r = podman(['run', '--rm', '-t', ...RUN, image(), 'tty']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /\/dev\/pts\/0/);
});

test.serial('podman run -d, exec, stop, rm', (t) => {
  const r = podman(['run', '-d', '--name', 'p1', ...RUN, image(), 'sleep', '100']);
  t.is(r.code, 0, r.out);
  const ex = podman(['exec', 'p1', 'sh', '-c', 'echo podman-exec; exit 6']);
  t.is(ex.code, 6, ex.out);
  t.regex(ex.out, /podman-exec/);
  t.is(podman(['stop', '-t', '1', 'p1']).code, 0);
  t.is(podman(['rm', 'p1']).code, 0);
  t.notRegex(podman(['ps', '-a']).out, /p1/);
});
