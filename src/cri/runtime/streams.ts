// ExecSync, Exec, Attach, PortForward. ExecSync runs `tsrun exec` and collects its output;
// the other three return a URL of the streaming server, which calls back into
// StreamRuntimeImpl when the client connects (as the kubelet's streaming server does).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tty from 'node:tty';
import type { Duplex } from 'node:stream';
import { signalPid } from '../../common/signal';
import { connectInNetns, receiveFd, setWinsize } from '../../sys/native';
import { getContainer, refreshExit } from '../container/lifecycle';
import type { CriContext } from '../context';
import { badState, invalid, CriError } from '../errors';
import { attach as attachMonitor } from '../monitor';
import type { CriReceived } from '../proto';
import { getSandbox } from '../sandbox/lifecycle';
import type { StreamingServer } from '../streaming/server';
import type { StreamingRuntime, StreamIO } from '../streaming/types';
import { status as Status } from '@grpc/grpc-js';
import { runtimeError } from '../oci-runtime';

function running(ctx: CriContext, id: string) {
  const c = getContainer(ctx, id);
  refreshExit(ctx, c);
  if (c.state !== 'CONTAINER_RUNNING') throw badState(`container ${c.id} is not running`);
  return c;
}

export async function ExecSync(ctx: CriContext, req: CriReceived<'ExecSyncRequest'>) {
  const c = running(ctx, req.container_id);
  if (!req.cmd.length) throw invalid('cmd is empty');
  const pidFile = path.join(ctx.paths.monitorDir(c.id), `exec-${randomBytes(6).toString('hex')}.pid`);
  const timeoutMs = Number(req.timeout) > 0 ? Number(req.timeout) * 1000 : 0;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  // The timeout is the command's: its clock starts when the process does (the pid file is
  // there), so a `tsrun exec` that is slow to start on a busy node does not use up a probe's
  // default 1 s, as containerd's shim, already running, never does.
  const armWhenStarted = async (): Promise<void> => {
    while (!finished && !fs.existsSync(pidFile)) await new Promise((r) => setTimeout(r, 10));
    if (finished) return;
    timer = setTimeout(() => {
      timedOut = true;
      try {
        signalPid(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }, timeoutMs);
  };
  if (timeoutMs) void armWhenStarted();
  try {
    const r = await ctx.runtime.run(['exec', '--pid-file', pidFile, c.id, ...req.cmd], { timeoutMs: timeoutMs ? timeoutMs + 10_000 : undefined });
    if (timedOut) throw new CriError(Status.DEADLINE_EXCEEDED, `command ${JSON.stringify(req.cmd)} timed out after ${req.timeout}s`);
    if (!fs.existsSync(pidFile)) throw runtimeError(['exec', c.id], r.stderr.toString(), r.code);
    return { stdout: r.stdout, stderr: r.stderr, exit_code: r.code };
  } finally {
    finished = true;
    if (timer) clearTimeout(timer);
    fs.rmSync(pidFile, { force: true });
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
      const child = this.ctx.runtime.spawn(['exec', c.id, ...cmd], [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']);
      if (io.stdin && child.stdin) {
        io.stdin.pipe(child.stdin);
        child.stdin.on('error', () => {});
      }
      child.stdout!.on('data', (b: Buffer) => io.stdout?.write(b));
      child.stderr!.on('data', (b: Buffer) => io.stderr?.write(b));
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve({ exitCode: code ?? 255 }));
      });
    }
    // A terminal: the init hands the pty master over the console socket; we relay it.
    // Short: a unix socket path has 108 bytes.
    fs.mkdirSync(path.join(this.ctx.opts.runDir, 't'), { recursive: true, mode: 0o700 });
    const sock = path.join(this.ctx.opts.runDir, 't', `${randomBytes(6).toString('hex')}.sock`);
    const gotFd = receiveFd(sock, 30_000);
    const child = this.ctx.runtime.spawn(['exec', '--tty', '--console-socket', sock, c.id, ...cmd], ['ignore', 'ignore', 'pipe']);
    let errText = '';
    child.stderr!.on('data', (b: Buffer) => (errText += b.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 255)));
    const fd = await Promise.race([gotFd, exited.then((code) => Promise.reject(runtimeError(['exec', c.id], errText, code)))]);
    const rs = new tty.ReadStream(fd);
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
    await new Promise((r) => setTimeout(r, 50));
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
