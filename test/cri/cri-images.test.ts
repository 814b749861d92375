// The stand-ins for critest's images, pulled by their public names through tsrun with the
// mirror config, behave as the cri-tools v1.34.0 specs expect: the commands the specs run
// exist and print what the specs compare with, image users resolve, servers serve.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { allCriImageRefs, CRI_IMAGE, ensureCriImages } from '../fixtures/cri-images';
import { newRoot, tsrun, TSRUN, uniqueId, waitFor, type Result } from '../helpers/tsrun';

const root = newRoot();
const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-store-cri-'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-images-'));
const bundles: string[] = [];
const containers: string[] = [];
let mirror = '';
let registry = '';

const ts = (args: string[], timeout = 60_000): Result => tsrun(root, ['--store', store, ...args], { timeout });

test.before(async () => {
  ({ mirrorDir: mirror, registry } = await ensureCriImages());
});

test.after.always(() => {
  for (const id of containers) ts(['delete', '--force', id]);
  for (const b of bundles) ts(['bundle', '--remove', b]);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(store, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
});

const pulled = new Set<string>();
function pull(ref: string): void {
  if (pulled.has(ref)) return;
  const r = ts(['pull', '--hosts-dir', mirror, ref]);
  if (r.code !== 0) throw new Error(`tsrun pull ${ref}: ${r.stderr}`);
  pulled.add(ref);
}

/** A bundle of `ref` (pulled by its public name), its command replaced by `args` if given. */
function bundleOf(ref: string, args: string[] = [], edit?: (c: RuntimeConfig) => void): string {
  pull(ref);
  const dir = path.join(work, uniqueId('b'));
  const r = ts(['bundle', ref, dir, ...(args.length ? ['--', ...args] : [])]);
  if (r.code !== 0) throw new Error(`tsrun bundle ${ref}: ${r.stderr}`);
  bundles.push(dir);
  if (edit) {
    const file = path.join(dir, 'config.json');
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeConfig;
    edit(c);
    fs.writeFileSync(file, JSON.stringify(c));
  }
  return dir;
}

function config(dir: string): RuntimeConfig {
  return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as RuntimeConfig;
}

const run = (ref: string, args: string[], edit?: (c: RuntimeConfig) => void, timeout?: number): Result =>
  ts(['run', '-b', bundleOf(ref, args, edit), uniqueId('cri')], timeout);

/** The image config as a registry client sees it. */
function imageConfig(ref: string): { User?: string; Cmd?: string[]; ExposedPorts?: Record<string, unknown>; WorkingDir?: string } {
  const out = execFileSync('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${registry}/${ref}`], { encoding: 'utf8' });
  return (JSON.parse(out) as { config: Record<string, never> }).config;
}

/** `tsrun run -d` with its stdout/stderr in files that outlive the call (servers log there). */
function runDetached(dir: string): { id: string; stderr: () => string } {
  const id = uniqueId('srv');
  const out = path.join(work, `${id}.out`);
  const err = path.join(work, `${id}.err`);
  const o = fs.openSync(out, 'w');
  const e = fs.openSync(err, 'w');
  try {
    const r = spawnSync(TSRUN, ['--root', root, '--store', store, 'run', '-d', '-b', dir, id], { stdio: ['ignore', o, e], timeout: 60_000 });
    containers.push(id);
    if (r.status !== 0) throw new Error(`tsrun run -d: ${fs.readFileSync(err, 'utf8')}`);
  } finally {
    fs.closeSync(o);
    fs.closeSync(e);
  }
  // A fresh network namespace has loopback down; a CNI loopback plugin would bring it up.
  const lo = ts(['exec', '--cap', 'CAP_NET_ADMIN', id, 'ip', 'link', 'set', 'lo', 'up']);
  if (lo.code !== 0) throw new Error(`ip link set lo up: ${lo.stderr}`);
  return { id, stderr: () => fs.readFileSync(err, 'utf8') };
}

/** GET http://127.0.0.1:PORT/ from inside the container (busybox wget), retried while it starts. */
async function fetchInside(id: string, port: number): Promise<Result> {
  let r = ts(['exec', id, 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}/`]);
  for (let i = 0; i < 50 && r.code !== 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = ts(['exec', id, 'wget', '-q', '-O', '-', `http://127.0.0.1:${port}/`]);
  }
  return r;
}

function dropCap(cap: string): (c: RuntimeConfig) => void {
  return (c) => {
    const caps = c.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) if (caps[set]) caps[set] = caps[set]!.filter((x) => x !== cap);
  };
}

test('every image the specs pull resolves through the mirrors under its public name', (t) => {
  for (const ref of allCriImageRefs()) pull(ref);
  const rows = new Map(
    ts(['images'])
      .stdout.split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/))
      .map(([name, digest]) => [name!, digest!]),
  );
  for (const ref of allCriImageRefs()) t.true(rows.has(ref), `${ref} listed under its public name`);
  const digest = (ref: string): string => rows.get(ref)!;
  // listImage specs: three tags of one image, three different images, test vs all differ.
  t.is(new Set(CRI_IMAGE.sameImageTags.map(digest)).size, 1);
  t.is(new Set(CRI_IMAGE.different.map(digest)).size, 3);
  t.not(digest(CRI_IMAGE.tagTest), digest(CRI_IMAGE.tagAll));
});

test('busybox: the commands the specs run exist as programs of their own', (t) => {
  const applets = [
    'sh',
    'echo',
    'sleep',
    'top',
    'pgrep',
    'pidof',
    'ipcs',
    'ls',
    'cat',
    'id',
    'hostname',
    'netstat',
    'brctl',
    'ping',
    'touch',
    'chmod',
    'grep',
    'mount',
    'mkdir',
    'dd',
    'true',
  ];
  const r = run(CRI_IMAGE.busybox, [
    'sh',
    '-c',
    `for a in ${applets.join(' ')}; do [ -x /bin/$a ] && [ ! -L /bin/$a ] || echo "missing $a"; done; echo -n hello`,
  ]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'hello');
  const cfg = imageConfig(CRI_IMAGE.busybox);
  t.deepEqual(cfg.Cmd, ['sh']);
});

test('busybox: pgrep sees a sleeping process and prints nothing once it is gone (execSync timeout spec)', (t) => {
  // The subshell's stderr takes the shell's "Terminated" job report. The forked child is `sh`
  // until it has exec'd sleep, so pgrep is asked again (a bounded number of times) until then.
  const script =
    '(sleep 4321 & p=$!; i=0; until pgrep sleep || [ $i -ge 3000 ]; do i=$((i+1)); done; kill $p; wait $p) 2>/dev/null; echo ---; pgrep sleep || true';
  const r = run(CRI_IMAGE.busybox, ['sh', '-c', script]);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^\d+\n---\n$/);
});

test('busybox: a masked /bin/ls fails as the shell execs it: "/bin/sh: ls: Permission denied"', (t) => {
  const r = run(CRI_IMAGE.busybox, ['/bin/sh', '-c', 'ls'], (c) => c.linux!.maskedPaths!.push('/bin/ls'));
  t.not(r.code, 0);
  t.is(r.stderr, '/bin/sh: ls: Permission denied\n');
});

test('busybox: touch reports a read-only path and a read-only root in busybox words', (t) => {
  const ro = run(CRI_IMAGE.busybox, ['touch', '/tmp/test'], (c) => c.linux!.readonlyPaths!.push('/tmp'));
  t.not(ro.code, 0);
  t.is(ro.stderr, 'touch: /tmp/test: Read-only file system\n');
  const cmd = ['sh', '-c', "touch test.go && [ -f test.go ] && echo 'Found'"];
  const rootRo = run(CRI_IMAGE.busybox, cmd, (c) => (c.root!.readonly = true));
  t.is(rootRo.stderr, 'touch: test.go: Read-only file system\n');
  const rootRw = run(CRI_IMAGE.busybox, cmd);
  t.is(rootRw.stdout, 'Found\n', rootRw.stderr);
});

test('busybox: ping without CAP_NET_RAW prints its header, then "permission denied", and fails', (t) => {
  const r = run(CRI_IMAGE.busybox, ['ping', '127.0.0.1'], dropCap('CAP_NET_RAW'), 20_000);
  t.not(r.code, 0);
  t.regex(r.stdout, /^PING 127\.0\.0\.1/);
  t.true(r.stderr.includes('permission denied'), r.stderr);
});

test('busybox: id prints what the RunAsUser, RunAsUserName, RunAsGroup and groups specs compare', (t) => {
  const asUser =
    (uid: number, gid: number, additionalGids: number[] = []) =>
    (c: RuntimeConfig) =>
      (c.process!.user = { uid, gid, additionalGids });
  t.is(run(CRI_IMAGE.busybox, ['id', '-u'], asUser(1001, 0)).stdout, '1001\n');
  t.is(run(CRI_IMAGE.busybox, ['id', '-nu'], asUser(65534, 65534)).stdout, 'nobody\n');
  t.is(run(CRI_IMAGE.busybox, ['sh', '-c', 'echo $(id -u):$(id -g)'], asUser(1001, 1002)).stdout, '1001:1002\n');
  const g = run(CRI_IMAGE.busybox, ['id', '-G'], asUser(0, 0, [1234, 5678]))
    .stdout.trim()
    .split(' ');
  t.true(g.includes('1234') && g.includes('5678'), g.join(' '));
  // sleep infinity (the SupplementalGroupsPolicy specs) is a sleep, not an error.
  const s = run(CRI_IMAGE.busybox, ['sh', '-c', 'sleep infinity & p=$!; sleep 0.2; kill $p && echo still-sleeping']);
  t.is(s.stdout, 'still-sleeping\n', s.stderr);
});

test('busybox: ipcs -m lists a host segment with the host IPC namespace and not with its own', (t) => {
  const id = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' })
    .trim()
    .replace(/^Shared memory id: /, '');
  try {
    const host = run(CRI_IMAGE.busybox, ['ipcs', '-m'], (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'ipc')));
    t.is(host.code, 0, host.stderr);
    t.regex(host.stdout, new RegExp(`\\b${id}\\b`));
    const own = run(CRI_IMAGE.busybox, ['ipcs', '-m']);
    t.is(own.code, 0, own.stderr);
    t.notRegex(own.stdout, new RegExp(`\\b${id}\\b`));
  } finally {
    execFileSync('ipcrm', ['-m', id]);
  }
});

test('busybox: /bin/sh reads commands from stdin (attach spec)', (t) => {
  const dir = bundleOf(CRI_IMAGE.busybox, ['/bin/sh']);
  const input = path.join(work, 'stdin');
  fs.writeFileSync(input, 'echo -n hello\n');
  const out = path.join(work, 'attach.out');
  const fds = [fs.openSync(input, 'r'), fs.openSync(out, 'w'), fs.openSync(out + '.err', 'w')];
  try {
    const r = spawnSync(TSRUN, ['--root', root, '--store', store, 'run', '-b', dir, uniqueId('attach')], { stdio: fds, timeout: 60_000 });
    t.is(r.status, 0, fs.readFileSync(out + '.err', 'utf8'));
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
  }
  t.is(fs.readFileSync(out, 'utf8'), 'hello');
});

test('user images: config User as published, resolved to the ids the container runs with', (t) => {
  const cases: [string, string, string][] = [
    [CRI_IMAGE.userUid, '1002', '1002:0'],
    [CRI_IMAGE.userUsername, 'www-data', '33:33'],
    [CRI_IMAGE.userUidGroup, '1003:1004', '1003:1004'],
    [CRI_IMAGE.userUsernameGroup, 'www-data:1004', '33:1004'],
  ];
  for (const [ref, user, ids] of cases) {
    t.is(imageConfig(ref).User, user, ref);
    const r = run(ref, ['sh', '-c', 'echo $(id -u):$(id -g)']);
    t.is(r.stdout, `${ids}\n`, `${ref}: ${r.stderr}`);
  }
});

test('predefined-group image: user 1000 (default-user) is in group 50000 through /etc/group only', (t) => {
  t.is(imageConfig(CRI_IMAGE.predefinedGroup).User, '1000');
  const dir = bundleOf(CRI_IMAGE.predefinedGroup, ['sh', '-c', 'id -un; id -G; grep ^group-defined-in-image: /etc/group']);
  t.deepEqual(config(dir).process!.user, { uid: 1000, gid: 1000, additionalGids: [] });
  const r = ts(['run', '-b', dir, uniqueId('grp')]);
  t.is(r.stdout, 'default-user\n1000\ngroup-defined-in-image:x:50000:default-user\n', r.stderr);
  // With the groups a runtime merges in (SupplementalGroupsPolicy=Merge), id -G prints the spec's line.
  const merged = run(CRI_IMAGE.predefinedGroup, ['id', '-G'], (c) => (c.process!.user = { uid: 1000, gid: 1000, additionalGids: [1000, 1234, 50000] }));
  t.is(merged.stdout, '1000 1234 50000\n', merged.stderr);
});

test("nonewprivs: a setuid-root program reports euid 0, or the caller's uid under no_new_privs", (t) => {
  t.deepEqual(imageConfig(CRI_IMAGE.nonewprivs).Cmd, ['/usr/local/bin/nnp']);
  const as1000 = (nnp: boolean) => (c: RuntimeConfig) => {
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [] };
    c.process!.noNewPrivileges = nnp;
  };
  t.is(run(CRI_IMAGE.nonewprivs, [], as1000(false)).stdout, 'Effective uid: 0\n');
  t.is(run(CRI_IMAGE.nonewprivs, [], as1000(true)).stdout, 'Effective uid: 1000\n');
});

test('nginx: master process as PID 1, pid file in /var/run/nginx.pid, serves / on port 80', async (t) => {
  t.deepEqual(Object.keys(imageConfig(CRI_IMAGE.nginx).ExposedPorts ?? {}), ['80/tcp']);
  const { id } = runDetached(bundleOf(CRI_IMAGE.nginx));
  const pid = ts(['exec', id, 'sh', '-c', 'while [ ! -f /var/run/nginx.pid ]; do sleep 1; done && cat /var/run/nginx.pid']);
  t.is(pid.stdout, '1\n', pid.stderr);
  t.regex(ts(['exec', id, 'cat', '/proc/1/cmdline']).stdout, /^nginx: master process/);
  t.regex(ts(['exec', id, 'pidof', 'nginx']).stdout, /\b1\b/);
  const page = await fetchInside(id, 80);
  t.is(page.code, 0, page.stderr);
  t.regex(page.stdout, /Welcome to nginx/);
});

test('hostnet-nginx: a single-arch image serving / on port 12003', async (t) => {
  const raw = JSON.parse(
    execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry}/${CRI_IMAGE.hostnetNginx}`], { encoding: 'utf8' }),
  ) as { mediaType: string };
  t.is(raw.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const { id } = runDetached(bundleOf(CRI_IMAGE.hostnetNginx));
  const page = await fetchInside(id, 12003);
  t.is(page.code, 0, page.stderr);
  t.regex(page.stdout, /Welcome to nginx/);
});

test('httpd: serves / on port 80, says "httpd" in its log, runs echo', async (t) => {
  const { id, stderr } = runDetached(bundleOf(CRI_IMAGE.httpd));
  const page = await fetchInside(id, 80);
  t.is(page.code, 0, page.stderr);
  t.regex(page.stdout, /It works!/);
  t.true(await waitFor(() => stderr().includes('httpd'), 10_000), stderr());
  t.is(ts(['exec', id, 'echo', 'httpd']).stdout, 'httpd\n');
});

test('benchmark busybox tags run', (t) => {
  for (const ref of CRI_IMAGE.benchmark) {
    const r = run(ref, ['echo', ref]);
    t.is(r.stdout, `${ref}\n`, r.stderr);
  }
});
