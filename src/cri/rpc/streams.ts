// ExecSync, Exec, Attach, PortForward. ExecSync runs the command through the runtime in-process
// and collects its output;
// the other three return a URL of the streaming server, which calls back into
// StreamRuntimeImpl when the client connects (as the kubelet's streaming server does).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tty from 'node:tty';
import type { ChildProcess } from 'node:child_process';
import type { Duplex, Readable } from 'node:stream';
import { TsrunError } from '../../common/errors';
import { signalPid } from '../../common/signal';
import { connectInNetns, receiveFd, setWinsize } from '../../sys/native';
import { getContainer, refreshExit } from '../container/lifecycle';
import type { CriContext } from '../context';
import { badState, invalid, CriError } from '../errors';
import { attach as attachMonitor } from '../monitor';
import type { CriReceived } from '../proto';
import type { ExecCall } from '../oci-runtime';
import { getSandbox } from '../sandbox/lifecycle';
import type { StreamingServer } from '../streaming/server';
import type { StreamingRuntime, StreamIO } from '../streaming/types';
import { status as Status } from '@grpc/grpc-js';

function running(ctx: CriContext, id: string) {
  const c = getContainer(ctx, id);
  refreshExit(ctx, c);
  if (c.state !== 'CONTAINER_RUNNING') throw badState(`container ${c.id} is not running`);
  return c;
}

// Output an exec holds after its exit (a background child keeping the pipe) is awaited this long.
const DRAIN_MS = 2000;
const MAX_OUTPUT = 16 << 20;

/** Resolves when `stream` ends, or DRAIN_MS after `exited` (a background child keeps it open). */
function drained(stream: Readable, exited: Promise<unknown>): Promise<void> {
  const ended = new Promise<void>((r) => stream.once('close', r).once('error', () => r()));
  const late = exited.then(
    () => new Promise<void>((r) => setTimeout(r, DRAIN_MS).unref()),
    () => undefined,
  );
  return Promise.race([ended, late]);
}

/** Collects a stream up to a bound, until it is drained. */
function collect(stream: Readable | null | undefined, exited: Promise<unknown>): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0));
  const chunks: Buffer[] = [];
  let len = 0;
  stream.on('data', (b: Buffer) => {
    if (len < MAX_OUTPUT) chunks.push(b.subarray(0, MAX_OUTPUT - len));
    len += b.length;
  });
  return drained(stream, exited).then(() => {
    stream.destroy();
    return Buffer.concat(chunks);
  });
}

/**
 * Starts an exec with pipes: `child` is its runtime stage, whose stdio pipes reach the process
 * (undefined when the exec failed before it was spawned); `exited` is the process's status.
 */
async function startExec(ctx: CriContext, id: string, call: Omit<ExecCall, 'onSpawned'>): Promise<{ child?: ChildProcess; exited: Promise<number> }> {
  let exited!: Promise<number>;
  const spawned = new Promise<ChildProcess>((resolve) => {
    exited = ctx.runtime.exec(id, { ...call, onSpawned: resolve });
  });
  return { child: await Promise.race([spawned, exited.then(() => undefined)]), exited };
}

/** ExecSync runs the command in-process through the runtime (no Node process), as a probe would. */
export async function ExecSync(ctx: CriContext, req: CriReceived<'ExecSyncRequest'>) {
  const c = running(ctx, req.container_id);
  if (!req.cmd.length) throw invalid('cmd is empty');
  const timeoutMs = Number(req.timeout) > 0 ? Number(req.timeout) * 1000 : 0;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const { child, exited } = await startExec(ctx, c.id, {
    args: req.cmd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The timeout is the command's: its clock starts when it runs, as in containerd's shim.
    onStarted: (pid) => {
      if (!timeoutMs) return;
      timer = setTimeout(() => {
        timedOut = true;
        signalPid(pid, 'SIGKILL');
      }, timeoutMs);
    },
  });
  const out = collect(child?.stdout, exited);
  const err = collect(child?.stderr, exited);
  try {
    const code = await exited;
    if (timedOut) throw new CriError(Status.DEADLINE_EXCEEDED, `command ${JSON.stringify(req.cmd)} timed out after ${req.timeout}s`);
    return { stdout: await out, stderr: await err, exit_code: code };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function streamRpcs(streaming: () => StreamingServer) {
  return {
    async Exec(ctx: CriContext, req: CriReceived<'ExecRequest'>) {
      running(ctx, req.container_id);
      if (!req.cmd.length) throw invalid('cmd is empty');
      return { url: streaming().getExec(req) };
    },
    async Attach(ctx: CriContext, req: CriReceived<'AttachRequest'>) {
      running(ctx, req.container_id);
      return { url: streaming().getAttach(req) };
    },
    async PortForward(ctx: CriContext, req: CriReceived<'PortForwardRequest'>) {
      const s = getSandbox(ctx, req.pod_sandbox_id);
      if (s.state !== 'SANDBOX_READY') throw badState(`pod sandbox ${s.id} is not ready`);
      return { url: streaming().getPortForward(req) };
    },
  };
}

/** What the streaming server calls once a client has connected. */
export class StreamRuntimeImpl implements StreamingRuntime {
  constructor(private readonly ctx: CriContext) {}

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<{ exitCode: number }> {
    const c = running(this.ctx, containerId);
    if (!io.tty) {
      const { child, exited } = await startExec(this.ctx, c.id, { args: cmd, stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      if (child) {
        if (io.stdin && child.stdin) {
          io.stdin.pipe(child.stdin);
          child.stdin.on('error', () => {});
        }
        child.stdout!.on('data', (b: Buffer) => io.stdout?.write(b));
        child.stderr!.on('data', (b: Buffer) => io.stderr?.write(b));
      }
      const exitCode = await exited;
      // What the process wrote before it exited is still in the pipes: let it through.
      if (child) await Promise.all([drained(child.stdout!, exited), drained(child.stderr!, exited)]);
      return { exitCode };
    }
    // A terminal: the init hands the pty master over the console socket; we relay it.
    // Short: a unix socket path has 108 bytes.
    fs.mkdirSync(path.join(this.ctx.opts.runDir, 't'), { recursive: true, mode: 0o700 });
    const sock = path.join(this.ctx.opts.runDir, 't', `${randomBytes(6).toString('hex')}.sock`);
    const gotFd = receiveFd(sock, 30_000);
    // containerd gives a tty exec TERM=xterm; the container's own TERM, if any, comes first.
    const exited = this.ctx.runtime.exec(c.id, { args: cmd, tty: true, consoleSocket: sock, env: ['TERM=xterm'], stdio: ['ignore', 'ignore', 'ignore'] });
    // The init sends the terminal before its execve, so a process that is already done (a quick
    // `env`) has sent it too: it may just not have been read yet. Only a terminal that never
    // came within a grace period after the exit is an error.
    const lost = exited.then(
      (code) =>
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new TsrunError('TSRUN_E_INIT', `exec in ${c.id} exited ${code} before its terminal came`)), DRAIN_MS).unref(),
        ),
    );
    const fd = await Promise.race([gotFd, lost]);
    lost.catch(() => undefined);
    const rs = new tty.ReadStream(fd);
    const drainedTty = new Promise<void>((r) => rs.once('close', r));
    rs.on('data', (b: Buffer) => io.stdout?.write(b));
    rs.on('error', () => {}); // EIO once the last slave closes
    const onResize = (s: { width: number; height: number }): void => {
      try {
        setWinsize(fd, s.height, s.width);
      } catch {
        /* closed */
      }
    };
    io.resize?.on('resize', onResize);
    io.stdin?.on('data', (b: Buffer) => fs.write(fd, b, () => {}));
    const code = await exited;
    io.resize?.off('resize', onResize);
    // What it wrote is still in the pty: read until the last slave is closed (EIO), or DRAIN_MS.
    await Promise.race([drainedTty, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    rs.destroy();
    return { exitCode: code };
  }

  async attach(containerId: string, io: StreamIO): Promise<void> {
    const c = running(this.ctx, containerId);
    const session = await attachMonitor(this.ctx.paths.monitorDir(c.id));
    session.stdout.on('data', (b: Buffer) => io.stdout?.write(b));
    session.stderr.on('data', (b: Buffer) => (io.tty ? io.stdout : io.stderr)?.write(b));
    io.stdin?.on('data', (b: Buffer) => session.writeStdin(b));
    io.stdin?.on('end', () => session.closeStdin());
    const onResize = (s: { width: number; height: number }): void => session.resize(s.height, s.width);
    io.resize?.on('resize', onResize);
    await Promise.race([session.exited, new Promise((r) => io.stdout?.once('close', r))]);
    io.resize?.off('resize', onResize);
    session.close();
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    const s = getSandbox(this.ctx, podSandboxId);
    let sock: net.Socket;
    if (s.netns) {
      const fd = await connectInNetns(s.netns, port);
      sock = new net.Socket({ fd, readable: true, writable: true });
    } else {
      sock = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    }
    await new Promise<void>((resolve) => {
      stream.pipe(sock);
      sock.pipe(stream);
      const done = (): void => {
        sock.destroy();
        resolve();
      };
      sock.on('close', done);
      sock.on('error', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }
}
