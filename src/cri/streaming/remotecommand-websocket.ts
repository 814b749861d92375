// Exec/attach over WebSocket, as k8s.io/apimachinery's wsstream with kubelet's channel table: every
// message is one channel byte (stdin 0, stdout 1, stderr 2, error 3, resize 4) then data; the
// base64 protocols send text messages with the channel as an ASCII digit and base64 data.
// v5.channel.k8s.io adds the close signal: [255, channel] half-closes a channel (stdin EOF).
import { Writable } from 'node:stream';
import { endStdin, stdinPipe, type CommandOptions, type CommandStreams } from './remotecommand';
import { encodeOutcome } from './remotecommand-status';
import { TerminalResizes, TerminalSizeDecoder } from './terminal-size-decoder';
import type { WebSocketConnection } from './websocket-connection';
import { CloseCode } from './websocket-frames';

export const enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Error = 3,
  Resize = 4,
}
const CHANNELS = 5;
export const CLOSE_SIGNAL = 255;
// client-go reads 32 KiB at a time; smaller messages also keep one stream from hogging the socket.
const MESSAGE_CHUNK = 32 * 1024;

/** How a negotiated subprotocol frames channels. */
export interface ChannelCodec {
  base64: boolean;
  encode(channel: number, data: Buffer): Buffer;
  /** undefined for an empty message. */
  decode(message: Buffer): { channel: number; data: Buffer } | undefined;
}

export function channelCodec(protocol: string): ChannelCodec {
  const base64 = protocol.includes('base64');
  return {
    base64,
    encode: (channel, data) =>
      base64 ? Buffer.from(String.fromCharCode(0x30 + channel) + data.toString('base64'), 'latin1') : Buffer.concat([Buffer.from([channel]), data]),
    decode: (message) => {
      if (message.length === 0) return undefined;
      if (!base64) return { channel: message[0]!, data: message.subarray(1) };
      return { channel: message[0]! - 0x30, data: Buffer.from(message.subarray(1).toString('latin1'), 'base64') };
    },
  };
}

/** A write-only channel: each write becomes messages on the connection; destroyed when it closes. */
export class ChannelWriter extends Writable {
  constructor(
    private readonly ws: WebSocketConnection,
    private readonly codec: ChannelCodec,
    private readonly channel: number,
  ) {
    super();
    ws.once('close', () => this.destroy());
    this.on('error', () => {}); // see SpdyStream: misuse must not crash the server
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.ws.open) {
      cb();
      return;
    }
    for (let off = 0; off < chunk.length; off += MESSAGE_CHUNK) {
      const piece = chunk.subarray(off, off + MESSAGE_CHUNK);
      const last = off + MESSAGE_CHUNK >= chunk.length;
      this.ws.send(this.codec.encode(this.channel, piece), !this.codec.base64, last ? () => cb() : undefined);
    }
    if (chunk.length === 0) cb();
  }
}

export function websocketCommandStreams(ws: WebSocketConnection, protocol: string, opts: CommandOptions): CommandStreams {
  const codec = channelCodec(protocol);
  const closeSignal = protocol === 'v5.channel.k8s.io';
  const jsonStatus = protocol.startsWith('v4.') || protocol.startsWith('v5.');
  const streams: CommandStreams = {
    finish: async (outcome) => {
      const bytes = encodeOutcome(outcome, jsonStatus);
      if (bytes.length > 0) ws.send(codec.encode(Channel.Error, bytes), !codec.base64);
      ws.close(CloseCode.Normal);
    },
  };
  if (opts.stdin) streams.stdin = stdinPipe();
  if (opts.stdout) streams.stdout = new ChannelWriter(ws, codec, Channel.Stdout);
  if (opts.stderr) streams.stderr = new ChannelWriter(ws, codec, Channel.Stderr);
  const resize = new TerminalResizes();
  const sizes = new TerminalSizeDecoder();
  let resizeOpen = true;
  if (opts.tty) streams.resize = resize;

  ws.on('message', (message: Buffer) => {
    if (closeSignal && message.length > 0 && message[0] === CLOSE_SIGNAL) {
      const channel = message[1];
      if (message.length !== 2 || channel === undefined || channel >= CHANNELS) {
        ws.emit('protocol-error', `bad close signal ${message.subarray(0, 8).toString('hex')}`);
        ws.close(CloseCode.ProtocolError);
        return;
      }
      if (channel === Channel.Stdin) endStdin(streams.stdin);
      if (channel === Channel.Resize) resizeOpen = false;
      return;
    }
    const frame = codec.decode(message);
    if (!frame) return;
    if (frame.channel === Channel.Stdin && streams.stdin && !streams.stdin.writableEnded) {
      const stdin = streams.stdin;
      if (!stdin.write(frame.data)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (frame.channel === Channel.Resize && resizeOpen) {
      for (const size of sizes.push(frame.data)) resize.push(size);
    }
    // Anything else is for a channel the server only writes or ignores: dropped, as wsstream does.
  });
  ws.once('close', () => endStdin(streams.stdin));

  // wsstream's first message: an empty write on the lowest writable channel tells the client the
  // connection is established.
  const first = opts.stdout ? Channel.Stdout : opts.stderr ? Channel.Stderr : Channel.Error;
  ws.send(codec.encode(first, Buffer.alloc(0)), !codec.base64);
  return streams;
}
