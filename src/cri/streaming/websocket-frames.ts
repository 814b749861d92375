// RFC 6455 framing: FIN/RSV/opcode byte, MASK bit with a 7/16/64-bit length, an optional 4-byte
// masking key, payload. Clients must mask, servers must not; no extensions are negotiated, so RSV
// bits must be clear.
import { createHash } from 'node:crypto';
import { ByteQueue } from './byte-queue';

export const enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

export const enum CloseCode {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  InvalidData = 1007,
  PolicyViolation = 1008,
  TooBig = 1009,
  InternalError = 1011,
}

export interface WebSocketFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export class WebSocketProtocolError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'WebSocketProtocolError';
  }
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Incremental parser; unmasks payloads. requireMask: frames from a client must be masked. */
export class WebSocketFrameParser {
  private readonly queue = new ByteQueue();

  constructor(
    private readonly requireMask: boolean,
    private readonly maxPayload: number,
  ) {}

  push(chunk: Buffer): WebSocketFrame[] {
    this.queue.push(chunk);
    const frames: WebSocketFrame[] = [];
    for (;;) {
      if (this.queue.length < 2) break;
      const h = this.queue.peek(2);
      const b0 = h[0]!;
      const b1 = h[1]!;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let headLen = 2;
      if (len === 126) headLen += 2;
      else if (len === 127) headLen += 8;
      if (masked) headLen += 4;
      if (this.queue.length < headLen) break;
      const head = this.queue.peek(headLen);
      if (len === 126) len = head.readUInt16BE(2);
      else if (len === 127) {
        const big = head.readBigUInt64BE(2);
        if (big >> 63n) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'frame length has its most significant bit set');
        if (big > BigInt(this.maxPayload))
          throw new WebSocketProtocolError(CloseCode.TooBig, `frame of ${big} bytes exceeds the ${this.maxPayload}-byte limit`);
        len = Number(big);
      }
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (b0 & 0x70) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'RSV bits set but no extension was negotiated');
      if (![Opcode.Continuation, Opcode.Text, Opcode.Binary, Opcode.Close, Opcode.Ping, Opcode.Pong].includes(opcode)) {
        throw new WebSocketProtocolError(CloseCode.ProtocolError, `unknown opcode 0x${opcode.toString(16)}`);
      }
      if (isControl(opcode) && (!fin || len > 125))
        throw new WebSocketProtocolError(CloseCode.ProtocolError, 'control frame fragmented or longer than 125 bytes');
      if (this.requireMask && !masked) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'client frame is not masked');
      if (len > this.maxPayload) throw new WebSocketProtocolError(CloseCode.TooBig, `frame of ${len} bytes exceeds the ${this.maxPayload}-byte limit`);
      if (this.queue.length < headLen + len) break;
      const mask = masked ? Buffer.from(head.subarray(headLen - 4, headLen)) : undefined;
      this.queue.take(headLen);
      // Copy: unmasking in place must not touch the socket's buffers, and the payload outlives them.
      const payload = Buffer.from(this.queue.take(len));
      if (mask) applyMask(payload, mask);
      frames.push({ fin, opcode, payload });
    }
    return frames;
  }
}

export function applyMask(data: Buffer, mask: Buffer): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= mask[i & 3]!;
}

/** One frame; mask is for the client side (tests), a server never masks. */
export function encodeFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; mask?: Buffer } = {}): Buffer {
  const fin = opts.fin ?? true;
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + extra + (opts.mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (opts.mask ? 0x80 : 0) | (extra === 0 ? len : extra === 2 ? 126 : 127);
  if (extra === 2) head.writeUInt16BE(len, 2);
  else if (extra === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!opts.mask) return Buffer.concat([head, payload]);
  opts.mask.copy(head, 2 + extra);
  const body = Buffer.from(payload);
  applyMask(body, opts.mask);
  return Buffer.concat([head, body]);
}

export function encodeClose(code: number, reason = ''): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}
