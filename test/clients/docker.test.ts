// Docker Engine with tsrun as its runtime (`dockerd --add-runtime tsrun=... --default-runtime
// tsrun`): the commands a Docker user types every day, each checked from the user's side (the
// page on the published port, the log line, the exit code, the file on the host). Images come
// from a local registry: busybox, and nginx built from Debian's packages.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { pristineBusyboxRootfs } from '../fixtures/busybox';
import { nginxLayerDir } from '../fixtures/nginx';
import { OciLayout, push, tarOf, tarOfDir } from '../fixtures/oci-builder';
import { freePort, startRegistry, type Registry } from '../fixtures/registry';
import { DOCKER, startDockerd, type Dockerd } from '../helpers/dockerd';
import { until } from '../helpers/until';

let registry: Registry;
let d: Dockerd;
let busybox: string;
let nginx: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-docker-test-'));

/** nginx in the foreground on port 80, each request logged to stdout (what `docker logs` shows). */
const NGINX_CONF = `daemon off;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
  access_log /dev/stdout;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  server { listen 80; root /var/www/html; }
}
`;

function get(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on('error', () => resolve({ code: 0, body: '' }));
  });
}

/** A docker command on a pty (script -qec), as a person types `docker exec -it`. */
function onPty(args: string[]): Promise<{ code: number; out: string }> {
  const quoted = [DOCKER, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    const p = spawn('script', ['-qec', quoted, '/dev/null'], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const docker = (args: string[]): ReturnType<Dockerd['docker']> => d.docker(args);
const inspect = (name: string, format: string): string => docker(['inspect', '--format', format, name]).stdout.trim();

test.before(async (t) => {
  t.timeout(5 * 60_000, 'a registry, two images and dockerd');
  registry = await startRegistry('plain');
  const layout = new OciLayout(path.join(work, 'oci'));
  const base = tarOfDir(pristineBusyboxRootfs());
  layout.tag('busybox', layout.image([base], { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] }));
  const conf = await tarOf([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/nginx/', type: 'directory', mode: 0o755 },
    { name: 'etc/nginx/docker.conf', body: NGINX_CONF },
  ]);
  layout.tag(
    'nginx',
    layout.image([base, tarOfDir(nginxLayerDir()), conf], {
      Cmd: ['nginx', '-c', '/etc/nginx/docker.conf'],
      Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      ExposedPorts: { '80/tcp': {} },
      StopSignal: 'SIGQUIT',
    }),
  );
  busybox = `${registry.addr}/tsrun-test/busybox:1`;
  nginx = `${registry.addr}/tsrun-test/nginx:1`;
  push(layout.dir, 'busybox', busybox);
  push(layout.dir, 'nginx', nginx);
  d = await startDockerd();
  // Loopback registries are insecure by default for docker, as for tsrun.
  for (const image of [busybox, nginx]) {
    const r = docker(['pull', '--quiet', image]);
    if (r.code !== 0) throw new Error(`docker pull ${image}: ${r.stderr}`);
  }
});

test.after.always(async () => {
  await d?.stop();
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test.serial('the daemon runs tsrun: docker info names it the default runtime', (t) => {
  t.is(docker(['info', '--format', '{{.DefaultRuntime}}']).stdout.trim(), 'tsrun');
  t.true(docker(['info', '--format', '{{json .Runtimes}}']).stdout.includes('"tsrun"'));
});

test.serial('docker run: output and exit code come back; tsrun created, started and deleted the container', (t) => {
  const cidfile = path.join(work, 'run.cid');
  const r = docker(['run', '--rm', '--cidfile', cidfile, busybox, 'sh', '-c', 'echo hello from docker on tsrun; exit 3']);
  t.is(r.code, 3, r.stderr);
  t.is(r.stdout, 'hello from docker on tsrun\n');
  const id = fs.readFileSync(cidfile, 'utf8').trim();
  const verbs = d
    .runtimeCalls()
    .filter((l) => l.endsWith(` ${id}`))
    .map((l) => / --log-format json (\w+)/.exec(l)?.[1]);
  t.deepEqual(verbs.slice(0, 2), ['create', 'start'], d.runtimeCalls().join('\n'));
  t.true(verbs.includes('delete'));
});

test.serial('docker run -d -p, ps, logs, exec -it, stop, rm: nginx answers on the published port', async (t) => {
  const port = await freePort();
  const run = docker(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, nginx]);
  t.is(run.code, 0, `${run.stderr}\n${d.log().slice(-2000)}`);
  const id = run.stdout.trim();
  // The user's view: the page on the published port (through docker-proxy, over the bridge).
  const page = await until(
    'nginx on the published port',
    async () => ((await get(`http://127.0.0.1:${port}/`)).code === 200 ? get(`http://127.0.0.1:${port}/`) : undefined),
    30_000,
  );
  t.is(page.body, 'hello from nginx in a tsrun container\n');
  const ps = docker(['ps', '--filter', 'name=web', '--format', '{{.Names}} {{.Status}} {{.Ports}}']);
  t.regex(ps.stdout, new RegExp(`^web Up .* 127\\.0\\.0\\.1:${port}->80/tcp\\n$`));
  t.is(inspect('web', '{{.HostConfig.Runtime}}'), 'tsrun');
  // The request in the container's log (nginx's access log on its stdout).
  const logs = await until('the request in docker logs', async () => {
    const l = docker(['logs', 'web']);
    return /"GET \/ HTTP\/1\.1" 200/.test(l.stdout) ? l : undefined;
  });
  t.regex(logs.stdout, /"GET \/ HTTP\/1\.1" 200/);
  // exec -it on a terminal: the process has a tty, its output and exit code come back.
  const ex = await onPty(['exec', '-it', 'web', 'sh', '-c', 'tty; echo in the web container; exit 7']);
  t.is(ex.code, 7, ex.out);
  t.regex(ex.out, /\/dev\/pts\/\d+\r?\n/);
  t.regex(ex.out, /in the web container/);
  // stop: nginx gets its stop signal (SIGQUIT, the image's), ends gracefully, status 0.
  const stop = docker(['stop', 'web']);
  t.is(stop.code, 0, stop.stderr);
  t.is(inspect('web', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0');
  t.is((await get(`http://127.0.0.1:${port}/`)).code, 0, 'nothing answers on the port any more');
  t.is(docker(['rm', 'web']).code, 0);
  t.is(docker(['ps', '-a', '--filter', 'name=web', '-q']).stdout, '');
  // Nothing of the container stays with the runtime: no state (the shim gives tsrun the root
  // <exec-root>/runtime-runc/moby, whatever the runtime's name), no cgroup.
  const runtimeRoot = path.join(d.dir, 'exec', 'runtime-runc', 'moby');
  t.true(fs.existsSync(runtimeRoot));
  t.deepEqual(
    fs.readdirSync(runtimeRoot).filter((e) => e === id),
    [],
  );
  t.false(fs.existsSync(path.join('/sys/fs/cgroup/memory', d.cgroupParent, id)));
});

test.serial('docker logs -f follows a container until it exits', (t) => {
  t.is(docker(['run', '-d', '--name', 'counter', busybox, 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done; echo done >&2']).code, 0);
  const follow = docker(['logs', '-f', 'counter']);
  t.is(follow.code, 0);
  t.is(follow.stdout, 'line 1\nline 2\nline 3\n');
  t.is(follow.stderr, 'done\n');
  t.is(docker(['wait', 'counter']).stdout.trim(), '0');
  t.is(docker(['rm', 'counter']).code, 0);
});

test.serial('docker stop of a process that ignores SIGTERM: killed after the timeout, status 137', (t) => {
  t.is(docker(['run', '-d', '--name', 'sleeper', busybox, 'sleep', '300']).code, 0);
  t.is(docker(['stop', '-t', '1', 'sleeper']).code, 0);
  t.is(inspect('sleeper', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  t.is(docker(['rm', 'sleeper']).code, 0);
});

test.serial('a bind volume: the container reads and writes a host directory', (t) => {
  const host = fs.mkdtempSync(path.join(work, 'vol-'));
  fs.writeFileSync(path.join(host, 'in.txt'), 'from the host\n');
  const r = docker(['run', '--rm', '-v', `${host}:/data`, busybox, 'sh', '-c', 'cat /data/in.txt; echo from the container > /data/out.txt']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'from the host\n');
  t.is(fs.readFileSync(path.join(host, 'out.txt'), 'utf8'), 'from the container\n');
  const ro = docker(['run', '--rm', '-v', `${host}:/data:ro`, busybox, 'sh', '-c', 'echo x > /data/nope']);
  t.not(ro.code, 0);
  t.regex(ro.stderr, /Read-only file system/);
  t.false(fs.existsSync(path.join(host, 'nope')));
});

test.serial('a restart policy: on-failure:2 runs the container three times, then it stays exited', async (t) => {
  t.is(docker(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', busybox, 'sh', '-c', 'echo attempt; exit 3']).code, 0);
  const end = await until(
    'two restarts, then exited',
    async () => {
      const s = inspect('flaky', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}');
      return s === 'exited 2 3' ? s : undefined;
    },
    60_000,
    250,
  );
  t.is(end, 'exited 2 3');
  t.is(docker(['logs', 'flaky']).stdout, 'attempt\nattempt\nattempt\n');
  t.is(docker(['rm', 'flaky']).code, 0);
});

test.serial('docker build (the classic builder): each RUN step is a container of the default runtime, tsrun', (t) => {
  const ctx = fs.mkdtempSync(path.join(work, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${busybox}\nRUN echo built by a RUN step > /built.txt\nCMD ["cat", "/built.txt"]\n`);
  const before = d.runtimeCalls().filter((l) => / create /.test(l)).length;
  const build = d.docker(['build', '-t', 'tsrun-test/built:1', ctx], { env: { ...d.env, DOCKER_BUILDKIT: '0' } });
  t.is(build.code, 0, build.stderr);
  t.is(d.runtimeCalls().filter((l) => / create /.test(l)).length, before + 1, 'one RUN step, one container');
  const r = docker(['run', '--rm', 'tsrun-test/built:1']);
  t.is(r.stdout, 'built by a RUN step\n', r.stderr);
  t.is(docker(['rmi', 'tsrun-test/built:1']).code, 0);
});

test.serial('docker images and rmi', (t) => {
  const images = docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n');
  t.true(images.includes(busybox) && images.includes(nginx), images.join(' '));
  t.is(docker(['rmi', nginx]).code, 0);
  t.false(docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.split('\n').includes(nginx));
});

test.serial('the daemon changed nothing on the host: no iptables chains, its bridge only', (t) => {
  const rules = spawnSyncText('iptables-save', []);
  t.notRegex(rules, /DOCKER/);
  t.notRegex(rules, new RegExp(d.bridge));
  t.false(spawnSyncText('ip', ['-br', 'link']).includes('docker0'));
});

function spawnSyncText(cmd: string, args: string[]): string {
  return require('node:child_process').spawnSync(cmd, args, { encoding: 'utf8', env: d.env }).stdout as string;
}
