// Exec/attach over SPDY, as kubelet's createHTTPStreamStreams: the client opens one stream per role,
// named by its "streamtype" header (error, stdin, stdout, stderr, and resize for tty from v3 on);
// the server replies to each and starts once all the expected ones are there, or gives up after 30 s.
import { endStdin, stdinPipe, whenWritten, type CommandOptions, type CommandStreams } from './remotecommand';
import { encodeOutcome } from './remotecommand-status';
import type { SpdyConnection, SpdyStream } from './spdy-connection';
import { RstStatus } from './spdy-frames';
import { TerminalResizes, TerminalSizeDecoder } from './terminal-size-decoder';

export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type Role = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

export function acceptSpdyCommandStreams(conn: SpdyConnection, protocol: string, opts: CommandOptions, ready: (streams: CommandStreams) => void): void {
  const resizing = opts.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io');
  const expected = new Set<Role>(['error']);
  if (opts.stdin) expected.add('stdin');
  if (opts.stdout) expected.add('stdout');
  if (opts.stderr) expected.add('stderr');
  if (resizing) expected.add('resize');
  const got = new Map<Role, SpdyStream>();
  let started = false;

  const timer = setTimeout(() => {
    conn.emit('protocol-error', `timed out waiting for client to create streams (have ${[...got.keys()].join(', ') || 'none'})`);
    conn.close();
  }, STREAM_CREATION_TIMEOUT_MS);
  timer.unref();
  conn.once('close', () => clearTimeout(timer));

  conn.on('stream', (stream: SpdyStream) => {
    const role = stream.header('streamtype') as Role;
    if (started || got.has(role)) {
      stream.reset(RstStatus.RefusedStream);
      return;
    }
    stream.accept();
    if (!expected.has(role)) {
      // kubelet replies to streams it has no use for and ignores them.
      stream.resume();
      return;
    }
    got.set(role, stream);
    if (got.size < expected.size) return;
    started = true;
    clearTimeout(timer);
    ready(commandStreams(conn, protocol, got));
  });
}

function commandStreams(conn: SpdyConnection, protocol: string, got: Map<Role, SpdyStream>): CommandStreams {
  const errorStream = got.get('error')!;
  errorStream.resume(); // the client never writes to it
  const streams: CommandStreams = {
    finish: async (outcome) => {
      const bytes = encodeOutcome(outcome, protocol === 'v4.channel.k8s.io');
      if (bytes.length > 0) errorStream.write(bytes);
      errorStream.end();
      await whenWritten(errorStream);
      conn.close();
    },
  };

  const stdinStream = got.get('stdin');
  if (stdinStream) {
    const stdin = stdinPipe();
    stdinStream.pipe(stdin);
    // A reset or lost connection destroys the SPDY stream without 'end': still give the runtime EOF.
    stdinStream.on('close', () => endStdin(stdin));
    // channel.k8s.io (v1): the server half-closes stdin right away, as kubelet's v1 handler does.
    if (protocol === 'channel.k8s.io') stdinStream.end();
    streams.stdin = stdin;
  }
  const stdout = got.get('stdout');
  if (stdout) {
    stdout.resume();
    streams.stdout = stdout;
  }
  const stderr = got.get('stderr');
  if (stderr) {
    stderr.resume();
    streams.stderr = stderr;
  }
  const resizeStream = got.get('resize');
  if (resizeStream) {
    const resize = new TerminalResizes();
    const decoder = new TerminalSizeDecoder();
    resizeStream.on('data', (chunk: Buffer) => {
      for (const size of decoder.push(chunk)) resize.push(size);
    });
    streams.resize = resize;
  }
  return streams;
}
