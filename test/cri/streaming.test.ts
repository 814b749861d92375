// The CRI streaming server against the clients Kubernetes ships: client-go's SPDY and WebSocket
// executors and its port forwarder (what kubectl and crictl run), built from test/cri/streaming-client,
// plus hand-made frames for the protocol corners client-go never exercises.
import test from 'ava';
import { spawn, spawnSync, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { StreamingServer } from '../../src/cri/streaming/server';
import type { StreamIO, StreamingRuntime, TerminalSize } from '../../src/cri/streaming/types';
import { ROOT_DIR } from '../helpers/tsrun';

// ---------- a runtime whose "containers" are a few commands run in this process ----------

interface Observed {
  containerId: string;
  cmd: string[];
  tty: boolean;
  had: string[];
  /** cat: whether stdout was already destroyed when stdin reached EOF (the client went away). */
  stdoutGoneAtEof?: boolean;
}

class FakeRuntime implements StreamingRuntime {
  readonly calls: Observed[] = [];
  readonly events = new EventEmitter();

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<{ exitCode: number }> {
    const seen: Observed = { containerId, cmd, tty: io.tty, had: (['stdin', 'stdout', 'stderr', 'resize'] as const).filter((k) => io[k] !== undefined) };
    this.calls.push(seen);
    switch (cmd[0]) {
      case 'echo':
        io.stdout?.write(cmd.slice(1).join(' ') + '\n');
        return { exitCode: 0 };
      case 'echo-both':
        io.stdout?.write('to stdout\n');
        io.stderr?.write('to stderr\n');
        return { exitCode: 0 };
      case 'exit':
        return { exitCode: Number(cmd[1]) };
      case 'cat': {
        for await (const chunk of io.stdin!) io.stdout!.write(chunk);
        seen.stdoutGoneAtEof = io.stdout!.destroyed;
        this.events.emit('cat-done', seen);
        return { exitCode: 0 };
      }
      case 'resize': {
        // Reports the sizes the client sends, then exits once it has seen the expected number.
        const want = Number(cmd[1]);
        const sizes: TerminalSize[] = [];
        await new Promise<void>((resolve) =>
          io.resize!.on('resize', (s: TerminalSize) => {
            sizes.push(s);
            io.stdout!.write(`size ${s.width}x${s.height}\n`);
            if (sizes.length === want) resolve();
          }),
        );
        return { exitCode: 0 };
      }
      default:
        throw new Error(`executable file not found: ${cmd[0]}`);
    }
  }

  async attach(containerId: string, io: StreamIO): Promise<void> {
    this.calls.push({ containerId, cmd: [], tty: io.tty, had: [] });
    io.stdout?.write(`attached to ${containerId}\n`);
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    this.calls.push({ containerId: podSandboxId, cmd: [String(port)], tty: false, had: [] });
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect'); // rejects with ECONNREFUSED for a closed port
    stream.pipe(sock);
    sock.pipe(stream);
    stream.on('close', () => sock.destroy());
    await once(sock, 'close');
  }
}

// ---------- fixtures shared by the file ----------

const runtime = new FakeRuntime();
const server = new StreamingServer(runtime);
let echoServer: net.Server;
let echoPort = 0;
let closedPort = 0;

test.before(async () => {
  await server.start();
  echoServer = net.createServer((s) => s.pipe(s));
  echoServer.listen(0, '127.0.0.1');
  await once(echoServer, 'listening');
  echoPort = (echoServer.address() as net.AddressInfo).port;
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
});

test.after.always(async () => {
  await server.close();
  echoServer?.close();
});

function catDone(label: string): Promise<Observed> {
  return new Promise((resolve) => {
    const listener = (seen: Observed): void => {
      if (seen.cmd[1] !== label) return;
      runtime.events.off('cat-done', listener);
      resolve(seen);
    };
    runtime.events.on('cat-done', listener);
  });
}

const exec = (cmd: string[], o: { tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean } = {}): string =>
  server.getExec({ container_id: 'ctr-1', cmd, tty: o.tty ?? false, stdin: o.stdin ?? false, stdout: o.stdout ?? true, stderr: o.stderr ?? false });

// ---------- the client-go client, built once into a cache outside the repository ----------

const CLIENT_SRC = path.join(ROOT_DIR, 'test', 'cri', 'streaming-client');
const CLIENT_CACHE = '/var/cache/tsrun-streaming-client';
const haveGo = spawnSync('go', ['version']).status === 0;
const goTest = haveGo ? test : test.skip;
if (!haveGo) console.log('streaming.test: Go is not installed, so the client-go interop tests are skipped');
let clientBin = '';

async function buildClient(): Promise<string> {
  const sources = ['main.go', 'go.mod'].map((f) => fs.readFileSync(path.join(CLIENT_SRC, f)));
  const key = createHash('sha256').update(Buffer.concat(sources)).digest('hex').slice(0, 16);
  const bin = path.join(CLIENT_CACHE, key, 'streaming-client');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(CLIENT_CACHE, { recursive: true });
  const work = fs.mkdtempSync(path.join(CLIENT_CACHE, 'build-'));
  try {
    for (const f of ['main.go', 'go.mod']) fs.copyFileSync(path.join(CLIENT_SRC, f), path.join(work, f));
    const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
    const run = promisify(execFile);
    await run('go', ['mod', 'tidy'], { cwd: work, env, timeout: 15 * 60_000 });
    await run('go', ['build', '-o', 'streaming-client', '.'], { cwd: work, env, timeout: 15 * 60_000 });
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.renameSync(path.join(work, 'streaming-client'), bin);
    return bin;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

test.before(async (t) => {
  if (!haveGo) return;
  t.timeout(20 * 60_000, 'building the client-go test client (downloads modules the first time)');
  clientBin = await buildClient();
});

interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the client without blocking this process: the server under test lives here too. */
function client(args: string[], input: string | Buffer = '', onStdout?: (all: string, kill: () => void) => void): Promise<ClientResult> {
  return new Promise((resolve) => {
    const p = spawn(clientBin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => {
      out.push(d);
      onStdout?.(Buffer.concat(out).toString(), () => p.kill('SIGKILL'));
    });
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.stdin.on('error', () => {});
    if (onStdout) p.stdin.write(input);
    else p.stdin.end(input);
    // The client gives up by itself after 90 s; this only keeps a broken server from hanging the test.
    const guard = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

// ---------- exec and attach through client-go ----------

for (const transport of ['spdy', 'websocket'] as const) {
  const proto = transport === 'spdy' ? 'SPDY (v4.channel.k8s.io)' : 'WebSocket (v5.channel.k8s.io)';

  goTest(`${proto}: exec stdout, stderr and exit code 0`, async (t) => {
    const url = exec(['echo-both'], { stdout: true, stderr: true });
    const r = await client(['exec', '-transport', transport, '-stdout', '-stderr', url]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'to stdout\n');
    t.is(r.stderr, 'to stderr\n');
  });

  goTest(`${proto}: exec of echo hi passes the command and prints hi`, async (t) => {
    const r = await client(['exec', '-transport', transport, '-stdout', exec(['echo', 'hi', transport])]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, `hi ${transport}\n`);
    const call = runtime.calls.find((c) => c.cmd.join(' ') === `echo hi ${transport}`);
    t.like(call, { containerId: 'ctr-1', tty: false, had: ['stdout'] });
  });

  goTest(`${proto}: a non-zero exit code reaches the client as its exit code`, async (t) => {
    const r = await client(['exec', '-transport', transport, '-stdout', exec(['exit', '3'])]);
    t.is(r.code, 3, r.stderr);
    const r2 = await client(['exec', '-transport', transport, '-stdout', exec(['exit', '255'])]);
    t.is(r2.code, 255, r2.stderr);
  });

  goTest(`${proto}: stdin round trip of 2 MiB through cat, then EOF`, async (t) => {
    const input = randomBytes(1536 * 1024).toString('base64'); // 2 MiB of text
    const label = `round-trip-${transport}`;
    const done = catDone(label);
    const r = await client(['exec', '-transport', transport, '-stdin', '-stdout', exec(['cat', label], { stdin: true })], input);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.length, input.length);
    t.true(r.stdout === input);
    t.false((await done).stdoutGoneAtEof, 'stdin ended by the client closing it, with the session still up');
  });

  goTest(`${proto}: tty exec gets the client's terminal sizes as resize events`, async (t) => {
    const r = await client(['exec', '-transport', transport, '-tty', '-stdout', '-resize', '80x24,132x43', exec(['resize', '2'], { tty: true })]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'size 80x24\nsize 132x43\n');
  });

  goTest(`${proto}: a runtime failure is an internal error with its message`, async (t) => {
    const r = await client(['exec', '-transport', transport, '-stdout', exec(['no-such-binary'])]);
    t.is(r.code, 125);
    t.regex(r.stderr, /Internal error occurred: error executing command in container: executable file not found: no-such-binary/);
  });

  goTest(`${proto}: attach`, async (t) => {
    const url = server.getAttach({ container_id: `ctr-attach-${transport}`, tty: false, stdin: false, stdout: true, stderr: false });
    const r = await client(['exec', '-transport', transport, '-stdout', url]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, `attached to ctr-attach-${transport}\n`);
  });

  goTest(`${proto}: a client that goes away ends the runtime's stdin and closes its stdout`, async (t) => {
    const label = `gone-${transport}`;
    const done = catDone(label);
    const url = exec(['cat', label], { stdin: true });
    const r = await client(['exec', '-transport', transport, '-stdin', '-stdout', url], 'ping\n', (all, kill) => {
      if (all === 'ping\n') kill();
    });
    t.is(r.stdout, 'ping\n');
    // cat's stdin loop ended (EOF) although the client never closed stdin, and stdout was closed.
    t.true((await done).stdoutGoneAtEof);
  });

  goTest(`${proto}: the command exits while the client still holds stdin open (an interactive shell's exit)`, async (t) => {
    // With an onStdout callback the helper leaves the client's stdin open.
    const r = await client(['exec', '-transport', transport, '-stdin', '-stdout', exec(['exit', '5'], { stdin: true })], '', () => {});
    t.is(r.code, 5, r.stderr);
  });

  goTest(`${proto}: a token works once; the second client gets 404`, async (t) => {
    const url = exec(['echo', 'once']);
    t.is((await client(['exec', '-transport', transport, '-stdout', url])).code, 0);
    const again = await client(['exec', '-transport', transport, '-stdout', url]);
    t.is(again.code, 125);
    t.regex(again.stderr, /404/);
  });
}

goTest('SPDY: older protocol versions negotiate down as with kubelet (v3, v2: error text; v1)', async (t) => {
  const v3 = await client(['exec', '-protocols', 'v3.channel.k8s.io', '-stdout', exec(['exit', '3'])]);
  t.is(v3.code, 125);
  t.regex(v3.stderr, /error executing remote command: command terminated with non-zero exit code: exit status 3/);
  const v3tty = await client(['exec', '-protocols', 'v3.channel.k8s.io', '-tty', '-stdout', '-resize', '10x20', exec(['resize', '1'], { tty: true })]);
  t.is(v3tty.stdout, 'size 10x20\n', v3tty.stderr);
  const v2 = await client(['exec', '-protocols', 'v2.channel.k8s.io', '-stdout', '-stderr', exec(['echo-both'], { stderr: true })]);
  t.is(v2.code, 0, v2.stderr);
  t.is(v2.stdout + v2.stderr, 'to stdout\nto stderr\n');
  const v1 = await client(['exec', '-protocols', 'channel.k8s.io', '-stdout', exec(['echo', 'v1'])]);
  t.is(v1.code, 0, v1.stderr);
  t.is(v1.stdout, 'v1\n');
  // v5 exists only over WebSocket; kubelet's SPDY side refuses it the same way.
  const v5 = await client(['exec', '-protocols', 'v5.channel.k8s.io', '-stdout', exec(['echo', 'v5'])]);
  t.is(v5.code, 125);
  t.regex(
    v5.stderr,
    /unable to negotiate protocol: client supports \[v5.channel.k8s.io\], server accepts \[v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io\]/,
  );
});

goTest("WebSocket: kubelet's own v4.channel.k8s.io carries the exit code too", async (t) => {
  const r = await client(['exec', '-transport', 'websocket', '-protocols', 'v4.channel.k8s.io', '-stdout', exec(['exit', '7'])]);
  t.is(r.code, 7, r.stderr);
});

// ---------- port forwarding through client-go ----------

for (const transport of ['spdy', 'websocket'] as const) {
  const proto = transport === 'spdy' ? 'SPDY (portforward.k8s.io)' : 'SPDY tunnelled in WebSocket (SPDY/3.1+portforward.k8s.io)';

  goTest(`${proto}: port-forward to an echo server, one connection after another and four at once`, async (t) => {
    const url = server.getPortForward({ pod_sandbox_id: `pod-${transport}`, port: [] });
    const r = await client(['portforward', '-transport', transport, url, String(echoPort), 'first', 'second']);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'reply: first\nreply: second\n');
    t.true(runtime.calls.some((c) => c.containerId === `pod-${transport}` && c.cmd[0] === String(echoPort)));
    const big = randomBytes(48 * 1024).toString('hex'); // 96 KiB: several frames, under the 128 KiB argument limit
    const par = await client([
      'portforward',
      '-transport',
      transport,
      '-parallel',
      server.getPortForward({ pod_sandbox_id: 'p', port: [echoPort] }),
      String(echoPort),
      'a',
      'b',
      big,
      'd',
    ]);
    t.is(par.code, 0, par.stderr);
    t.true(par.stdout === `reply: a\nreply: b\nreply: ${big}\nreply: d\n`);
  });

  goTest(`${proto}: a failed forward reports the runtime's error on the error stream`, async (t) => {
    const url = server.getPortForward({ pod_sandbox_id: 'pod-x', port: [] });
    const r = await client(['portforward', '-transport', transport, url, String(closedPort), 'lost']);
    t.is(r.stdout, 'reply: \n');
    t.regex(r.stderr, new RegExp(`an error occurred forwarding \\d+ -> ${closedPort}: error forwarding port ${closedPort} to pod pod-x, uid : .*ECONNREFUSED`));
  });
}

goTest('SPDY port-forward holds a request that names ports to those ports', async (t) => {
  const url = server.getPortForward({ pod_sandbox_id: 'pod-y', port: [closedPort] });
  const r = await client(['portforward', url, String(echoPort), 'x']);
  t.is(r.stdout, 'reply: \n');
  t.regex(r.stderr, new RegExp(`port ${echoPort} is not among the ports of the port-forward request \\(${closedPort}\\)`));
});
