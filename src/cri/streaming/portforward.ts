// Port forwarding, as kubelet's portforward package.
//
// SPDY (portforward.k8s.io): for every connection the client opens a pair of streams carrying the
// headers streamtype (error|data), port and requestid; once both are there the data stream goes to
// the runtime; a failure's text goes on the error stream. The same SPDY session also runs tunnelled
// in WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io), which is what client-go's
// port-forward tries first (the API server normally unwraps it).
//
// WebSocket channels (v4.channel.k8s.io, v4.base64.channel.k8s.io, none): one connection per port of
// the request, channel 2i data and 2i+1 error for the i-th port, each opened by the port number as
// two little-endian bytes.
import { Duplex } from 'node:stream';
import type { SpdyConnection, SpdyStream } from './spdy-connection';
import { RstStatus } from './spdy-frames';
import { channelCodec } from './remotecommand-websocket';
import { STREAM_CREATION_TIMEOUT_MS } from './remotecommand-spdy';
import type { StreamingRuntime } from './types';
import type { WebSocketConnection } from './websocket-connection';
import { CloseCode } from './websocket-frames';

export const SPDY_PORTFORWARD_PROTOCOLS = ['portforward.k8s.io'];
export const WEBSOCKET_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const WEBSOCKET_PORTFORWARD_PROTOCOLS = [WEBSOCKET_TUNNEL_PROTOCOL, 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''];

/** strconv.ParseUint(s, 10, 16) and > 0, as kubelet checks the port header. */
export function parsePort(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 0xffff ? n : undefined;
}

function failureText(port: number, podSandboxId: string, e: unknown): string {
  return `error forwarding port ${port} to pod ${podSandboxId}, uid : ${e instanceof Error ? e.message : String(e)}`;
}

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/**
 * allowedPorts: the CRI request's ports. kubelet forwards any port for SPDY (its requests carry no
 * ports); a request that names ports is held to them here.
 */
export function serveSpdyPortForward(conn: SpdyConnection, runtime: StreamingRuntime, podSandboxId: string, allowedPorts: number[]): void {
  const pairs = new Map<string, Pair>();
  conn.once('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });

  conn.on('stream', (stream: SpdyStream) => {
    const port = parsePort(stream.header('port'));
    const type = stream.header('streamtype');
    if (port === undefined || (type !== 'error' && type !== 'data')) {
      stream.reset(RstStatus.Cancel); // kubelet's handler rejects it: Reset
      return;
    }
    stream.accept();
    let requestId = stream.header('requestid');
    // Clients before requestid numbered pairs by stream id: error n, data n+2.
    if (requestId === '') requestId = String(type === 'error' ? stream.id : stream.id - 2);

    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        const p = pairs.get(requestId);
        pairs.delete(requestId);
        if (!p) return;
        p.error?.end(`(conn, request=${requestId}) timed out waiting for streams`);
        p.data?.reset(RstStatus.Cancel);
      }, STREAM_CREATION_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      pair.error?.write(`error processing stream for request ${requestId}: ${type} stream already assigned`);
      stream.reset(RstStatus.Cancel);
      return;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume(); // the client half-closes it at once and never writes
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(requestId);
    // The data stream's port is the one forwarded, as in kubelet.
    void forwardPair(runtime, podSandboxId, allowedPorts, parsePort(pair.data.header('port'))!, pair.data, pair.error);
  });
}

async function forwardPair(
  runtime: StreamingRuntime,
  podSandboxId: string,
  allowedPorts: number[],
  port: number,
  data: SpdyStream,
  error: SpdyStream,
): Promise<void> {
  try {
    if (allowedPorts.length > 0 && !allowedPorts.includes(port)) {
      throw new Error(`port ${port} is not among the ports of the port-forward request (${allowedPorts.join(', ')})`);
    }
    await runtime.portForward(podSandboxId, port, data);
    if (!data.writableEnded && !data.destroyed) data.end();
    error.end();
  } catch (e) {
    error.end(failureText(port, podSandboxId, e));
    data.reset(RstStatus.Cancel);
  }
}

/** A channel pair's data side for the runtime: reads what the client sends on it, writes back. */
class ChannelDuplex extends Duplex {
  constructor(
    private readonly send: (data: Buffer, cb: () => void) => void,
    private readonly wantMore: () => void,
  ) {
    super({ allowHalfOpen: true });
    this.on('error', () => {}); // see SpdyStream: misuse must not crash the server
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk, cb);
  }

  override _read(): void {
    this.wantMore();
  }
}

export function serveWebSocketPortForward(ws: WebSocketConnection, protocol: string, runtime: StreamingRuntime, podSandboxId: string, ports: number[]): void {
  const codec = channelCodec(protocol);
  const binary = !codec.base64;
  const send = (channel: number, data: Buffer, cb?: () => void): void => ws.send(codec.encode(channel, data), binary, cb);
  const streams = ports.map((port, i) => {
    const stream = new ChannelDuplex(
      (data, cb) => send(i * 2, data, cb),
      () => ws.resume(),
    );
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port, 0);
    send(i * 2, portBytes);
    send(i * 2 + 1, portBytes);
    return stream;
  });

  ws.on('message', (message: Buffer) => {
    const frame = codec.decode(message);
    if (!frame || frame.channel % 2 !== 0) return; // error channels are write-only
    const stream = streams[frame.channel / 2];
    if (stream && !stream.destroyed && frame.data.length > 0 && !stream.push(frame.data)) ws.pause();
  });
  // There is no half-close here: the client closing the connection ends every forward.
  ws.once('close', () => streams.forEach((s) => s.destroy()));

  void Promise.all(
    streams.map(async (stream, i) => {
      const port = ports[i]!;
      try {
        await runtime.portForward(podSandboxId, port, stream);
      } catch (e) {
        send(i * 2 + 1, Buffer.from(failureText(port, podSandboxId, e)));
      }
    }),
  ).then(() => ws.close(CloseCode.Normal));
}
