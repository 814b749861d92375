// crictl, the CRI's own command-line client (kubernetes-sigs/cri-tools, built by
// scripts/install-cri-tools.sh), drives the server as a cluster admin would: pull, runp,
// create, start, ps, logs, exec (sync and streamed), port-forward, stats, metrics, stop, rm, rmp.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { freePort, startRegistry, type Registry } from '../fixtures/registry';
import { startCriServer, until, type CriServerHandle } from '../helpers/cri-server';
import { criToolsBin } from '../helpers/cri-tools';

const CRICTL = criToolsBin('crictl');
let reg: Registry;
let cri: CriServerHandle;
let image: string;

function crictl(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(CRICTL!, ['--runtime-endpoint', `unix://${cri.socket}`, '--image-endpoint', `unix://${cri.socket}`, '--timeout', '60s', ...args], {
    encoding: 'utf8',
    input,
    timeout: 90_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function ok(args: string[]): string {
  const r = crictl(args);
  if (r.code !== 0) throw new Error(`crictl ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return r.out.trim();
}

test.before(async () => {
  if (!CRICTL) return;
  reg = await startRegistry('plain');
  const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-crictl-oci-')));
  layout.tag('1', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'] }));
  push(layout.dir, '1', `${reg.addr}/crictl/busybox:1`);
  image = `${reg.addr}/crictl/busybox:1`;
  cri = await startCriServer();
});

test.after.always(async () => {
  await cri?.stop();
  await reg?.stop();
});

test.serial('crictl runs a pod end to end', async (t) => {
  if (!CRICTL) return t.fail('crictl is not built: run scripts/install-cri-tools.sh');
  ok(['pull', image]);
  t.true(ok(['images', '-q']).includes('sha256:'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-crictl-'));
  const pod = path.join(dir, 'pod.json');
  const ctr = path.join(dir, 'ctr.json');
  fs.writeFileSync(
    pod,
    JSON.stringify({
      metadata: { name: 'crictl-pod', namespace: 'default', uid: `crictl-${process.pid}`, attempt: 1 },
      hostname: 'crictl-pod',
      log_directory: path.join(dir, 'logs'),
      linux: {},
    }),
  );
  fs.writeFileSync(
    ctr,
    JSON.stringify({
      metadata: { name: 'web' },
      image: { image },
      command: ['sh', '-c', 'echo started; mkdir -p /www; echo pong > /www/index.html; exec httpd -f -p 8080 -h /www'],
      log_path: 'web.log',
    }),
  );
  const podId = ok(['runp', pod]);
  t.regex(podId, /^[0-9a-f]{64}$/);
  const id = ok(['create', podId, ctr, pod]);
  ok(['start', id]);
  t.true(ok(['ps', '-q']).includes(id));
  t.regex(ok(['ps', '--pod', podId, '-o', 'json']), /CONTAINER_RUNNING/);
  const logs = await until('the first log line', async () => crictl(['logs', id]).out || undefined);
  t.is(logs, 'started\n');
  t.is(ok(['exec', '-s', id, 'cat', '/www/index.html']), 'pong');
  // Streamed exec: crictl goes through the URL the Exec RPC returns (SPDY).
  const ex = crictl(['exec', id, 'sh', '-c', 'echo streamed; echo to-stderr >&2; exit 5']);
  t.is(ex.out, 'streamed\n');
  t.true(ex.err.split('\n').includes('to-stderr'), ex.err);
  // crictl reports the remote exit code in words and exits 1.
  t.regex(ex.err, /command terminated with exit code 5/);
  t.not(ex.code, 0);
  const withStdin = crictl(['exec', '-i', id, 'cat'], 'from stdin\n');
  t.is(withStdin.out, 'from stdin\n');
  // port-forward: a local port reaches httpd inside the pod's network namespace.
  const port = await freePort();
  const pf = spawn(CRICTL, ['--runtime-endpoint', `unix://${cri.socket}`, 'port-forward', podId, `${port}:8080`], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const tryGet = (n: number): void => {
        http
          .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(b));
          })
          .on('error', (e) => (n > 0 ? setTimeout(() => tryGet(n - 1), 200) : reject(e)));
      };
      tryGet(50);
    });
    t.is(body, 'pong\n');
  } finally {
    pf.kill();
  }
  t.regex(ok(['stats', '-o', 'json', id]), /workingSetBytes/);
  t.regex(ok(['metricdescs']), /container_memory_working_set_bytes/);
  const pm = JSON.parse(ok(['metricsp', '-o', 'json'])) as {
    podMetrics: { podSandboxId: string; containerMetrics: { containerId: string; metrics: { name: string }[] }[] }[];
  };
  const mine = pm.podMetrics.find((p) => p.podSandboxId === podId)?.containerMetrics.find((c) => c.containerId === id);
  t.true(mine?.metrics.some((m) => m.name === 'container_cpu_usage_seconds_total'));
  t.regex(ok(['inspectp', podId]), /SANDBOX_READY/);
  ok(['stop', '-t', '2', id]);
  const inspected = JSON.parse(ok(['inspect', id])) as { status: { state: string }; info: { runtimeSpec: { process: { args: string[] } } } };
  t.is(inspected.status.state, 'CONTAINER_EXITED');
  t.deepEqual(inspected.info.runtimeSpec.process.args.slice(0, 2), ['sh', '-c'], 'the OCI spec it was created from');
  ok(['rm', id]);
  ok(['stopp', podId]);
  ok(['rmp', podId]);
  t.is(ok(['pods', '-q']), '');
});

/** crictl's files for a bare pod (no namespace_options, as crictl's own examples) and a sleeper in it. */
function sleeperFiles(name: string): { dir: string; pod: string; ctr: string } {
  ok(['pull', image]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-crictl-'));
  const pod = path.join(dir, 'pod.json');
  const ctr = path.join(dir, 'ctr.json');
  fs.writeFileSync(
    pod,
    JSON.stringify({ metadata: { name, namespace: 'default', uid: `${name}-${process.pid}`, attempt: 1 }, log_directory: path.join(dir, 'logs'), linux: {} }),
  );
  fs.writeFileSync(ctr, JSON.stringify({ metadata: { name: 'sleeper' }, image: { image }, command: ['sleep', '300'], log_path: 'sleeper.log' }));
  return { dir, pod, ctr };
}

// With crictl's bare configs (no namespace_options) a container behaves as on containerd.
test.serial(
  'crictl defaults as on containerd: the pod PID namespace is shared, id lists the primary group, a tty exec has TERM=xterm and the terminal size of the client',
  async (t) => {
    if (!CRICTL) return t.fail('crictl is not built: run scripts/install-cri-tools.sh');
    const { pod, ctr } = sleeperFiles('defaults');
    const podId = ok(['runp', pod]);
    const id = ok(['create', podId, ctr, pod]);
    ok(['start', id]);
    try {
      // PID 1 is the pod's pause, and the container's own sleep is beside it.
      t.is(ok(['exec', '-s', id, 'cat', '/proc/1/comm']), 'pause');
      t.regex(ok(['exec', '-s', id, 'ps', '-o', 'comm']), /sleep/);
      t.is(ok(['exec', '-s', id, 'id']), 'uid=0(root) gid=0(root) groups=0(root)');
      // crictl wants a terminal for -it: script(1) gives it one.
      const cmd = [CRICTL, '--runtime-endpoint', `unix://${cri.socket}`, 'exec', '-it', id, 'sh', '-c', `'echo "TERM=$TERM"'`].join(' ');
      const term = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', input: '', timeout: 60_000 });
      t.regex(term.stdout, /TERM=xterm\r?\n/, term.stderr);
      // The client's terminal size, sent as the exec starts, reaches the container's terminal (as
      // with containerd, just after the process starts: the loop waits for it; busybox's stty
      // prints nothing while the size is 0 0, never applied, and the loop gives up after 10 s).
      const waitSize = `'for i in $(seq 100); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "size $s"'`;
      const sized = [CRICTL, '--runtime-endpoint', `unix://${cri.socket}`, 'exec', '-it', id, 'sh', '-c', waitSize].join(' ');
      const size = spawnSync('script', ['-qec', `stty rows 31 cols 101; ${sized}`, '/dev/null'], { encoding: 'utf8', input: '', timeout: 60_000 });
      t.regex(size.stdout, /size 31 101\r?\n/, size.stdout + size.stderr);
    } finally {
      ok(['stop', '-t', '0', id]);
      ok(['rm', id]);
      ok(['stopp', podId]);
      ok(['rmp', podId]);
    }
  },
);

// One program: a whole pod lifecycle through the CRI runs no Node process besides the server
// (no `tsrun create|start|exec|kill|delete` per verb). strace follows every process the server
// starts from here on and lists what each one executed.
test.serial('a pod lifecycle (run, create, start, ExecSync, streamed exec, stop, remove) executes no Node process besides the server', async (t) => {
  if (!CRICTL) return t.fail('crictl is not built: run scripts/install-cri-tools.sh');
  const { dir, pod, ctr } = sleeperFiles('one-program');
  const trace = path.join(dir, 'execs.trace');
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve,execveat', '-e', 'signal=none', '-o', trace, '-p', String(cri.proc.pid)], {
    stdio: 'ignore',
  });
  await until('strace to attach', async () =>
    Number(/TracerPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${cri.proc.pid}/status`, 'utf8'))?.[1]) > 0 ? true : undefined,
  );
  try {
    const podId = ok(['runp', pod]);
    const id = ok(['create', podId, ctr, pod]);
    ok(['start', id]);
    t.is(ok(['exec', '-s', id, 'echo', 'sync']), 'sync');
    t.is(crictl(['exec', id, 'echo', 'streamed']).out, 'streamed\n');
    ok(['stop', '-t', '1', id]);
    ok(['rm', id]);
    ok(['stopp', podId]);
    ok(['rmp', podId]);
  } finally {
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
  }
  const execs = fs
    .readFileSync(trace, 'utf8')
    .split('\n')
    .map((l) => /^\d+ +execve(?:at)?\((?:\d+, )?"([^"]*)".* = 0$/.exec(l)?.[1])
    .filter((f): f is string => !!f);
  t.true(
    execs.some((f) => f.endsWith('tsrun-monitor')),
    `the trace saw the monitor: ${execs.join(' ')}`,
  );
  t.true(
    execs.some((f) => f.endsWith('sleep') || f.endsWith('busybox')),
    `the trace saw the container: ${execs.join(' ')}`,
  );
  t.deepEqual(
    execs.filter((f) => /(^|\/)(node|nodejs|env)$|\/bin\/tsrun$/.test(f)),
    [],
    'no Node process, no tsrun CLI',
  );
});
