// Exec and attach, independent of the transport: the runtime gets the client's streams as StreamIO;
// when it is done, the output streams are closed, then the outcome goes on the error stream and the
// connection is closed, in that order (client-go waits for stdout/stderr EOF, then reads the status).
import { EventEmitter } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import type { CommandOutcome } from './remotecommand-status';
import type { StreamingRuntime, StreamIO } from './types';

/** X-Stream-Protocol-Version values kubelet accepts over SPDY, in its order. */
export const SPDY_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * Sec-WebSocket-Protocol values accepted: kubelet's (v4 and pre-v4 channel protocols, binary and
 * base64, or none) plus v5.channel.k8s.io, which client-go's WebSocket executor asks for (the
 * API server normally translates it; it adds the stdin close signal).
 */
export const WEBSOCKET_COMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
  '',
];

export interface CommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export type CommandTarget = { kind: 'exec'; containerId: string; cmd: string[] } | { kind: 'attach'; containerId: string };

/** The client's side of a session once every stream it announced is there. */
export interface CommandStreams {
  stdin?: PassThrough;
  stdout?: Writable;
  stderr?: Writable;
  resize?: EventEmitter;
  /** Puts the outcome on the error stream and closes the connection. */
  finish(outcome: CommandOutcome): Promise<void>;
}

// Large enough that a client pasting into stdin rarely stalls the connection for the other streams.
const STDIN_BUFFER = 1024 * 1024;

export function stdinPipe(): PassThrough {
  return new PassThrough({ highWaterMark: STDIN_BUFFER });
}

export function endStdin(stdin: PassThrough | undefined): void {
  if (stdin && !stdin.writableEnded && !stdin.destroyed) stdin.end();
}

/** Resolves once w has flushed everything (or was destroyed). */
export function whenWritten(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('finish', done);
      w.off('close', done);
      resolve();
    };
    w.on('finish', done);
    w.on('close', done);
  });
}

async function closeOutput(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed) return;
  if (!w.writableEnded) w.end();
  await whenWritten(w);
}

export async function runCommand(runtime: StreamingRuntime, target: CommandTarget, tty: boolean, streams: CommandStreams): Promise<void> {
  const io: StreamIO = { tty };
  if (streams.stdin) io.stdin = streams.stdin;
  if (streams.stdout) io.stdout = streams.stdout;
  if (streams.stderr) io.stderr = streams.stderr;
  if (tty) io.resize = streams.resize ?? new EventEmitter();
  let outcome: CommandOutcome;
  try {
    if (target.kind === 'exec') {
      const { exitCode } = await runtime.exec(target.containerId, target.cmd, io);
      outcome = { kind: 'exit', code: exitCode };
    } else {
      await runtime.attach(target.containerId, io);
      outcome = { kind: 'exit', code: 0 };
    }
  } catch (e) {
    const what = target.kind === 'exec' ? 'error executing command in container' : 'error attaching to container';
    outcome = { kind: 'error', message: `${what}: ${e instanceof Error ? e.message : String(e)}` };
  }
  await Promise.all([closeOutput(streams.stdout), closeOutput(streams.stderr)]);
  await streams.finish(outcome);
}
