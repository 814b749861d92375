// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 and the 3.1 flow-control amendment): an 8-byte
// header, then the payload. Control frames: bit 31 set, version 3, a type, 8 bits of flags and a
// 24-bit length. Data frames: a 31-bit stream id, flags and length. Header blocks stay compressed
// here; spdy-headers.ts owns that zlib context.
import { ByteQueue } from './byte-queue';
import { SpdyProtocolError } from './spdy-headers';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
// Frames kubelet's peer (moby/spdystream) accepts are 16 MiB - 1; we send much smaller ones so one
// stream's output does not hold up the others for long.
export const MAX_FRAME_PAYLOAD = 0xffffff;
export const DATA_CHUNK = 32 * 1024;

export const enum ControlType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

export const enum RstStatus {
  ProtocolError = 1,
  InvalidStream = 2,
  RefusedStream = 3,
  UnsupportedVersion = 4,
  Cancel = 5,
  InternalError = 6,
  FlowControlError = 7,
  StreamInUse = 8,
  StreamAlreadyClosed = 9,
}

export const enum GoAwayStatus {
  Ok = 0,
  ProtocolError = 1,
  InternalError = 2,
}

export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'syn_stream';
      version: number;
      streamId: number;
      associatedId: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headerBlock: Buffer;
    }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; controlType: number };

/** Incremental parser: push() what the socket gives, get back the frames completed so far. */
export class SpdyFrameParser {
  private readonly queue = new ByteQueue();

  push(chunk: Buffer): SpdyFrame[] {
    this.queue.push(chunk);
    const frames: SpdyFrame[] = [];
    while (this.queue.length >= 8) {
      const head = this.queue.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (this.queue.length < 8 + length) break;
      const frame = this.queue.take(8 + length);
      frames.push(parseFrame(frame.subarray(0, 8), frame.subarray(8)));
    }
    return frames;
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame is ${payload.length} bytes, needs at least ${n}`);
}

function parseFrame(head: Buffer, payload: Buffer): SpdyFrame {
  const word = head.readUInt32BE(0);
  const flags = head[4]!;
  if ((word & 0x80000000) === 0) {
    const streamId = word & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError('data frame for stream 0');
    return { type: 'data', streamId, fin: (flags & FLAG_FIN) !== 0, data: payload };
  }
  const version = (word >>> 16) & 0x7fff;
  const type = word & 0xffff;
  const fin = (flags & FLAG_FIN) !== 0;
  const streamIdAt = (off: number): number => {
    const id = payload.readUInt32BE(off) & 0x7fffffff;
    if (id === 0) throw new SpdyProtocolError(`control frame type ${type} names stream 0`);
    return id;
  };
  switch (type) {
    case ControlType.SynStream:
      need(payload, 10, 'SYN_STREAM');
      return {
        type: 'syn_stream',
        version,
        streamId: streamIdAt(0),
        associatedId: payload.readUInt32BE(4) & 0x7fffffff,
        priority: payload[8]! >> 5,
        fin,
        unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
        headerBlock: payload.subarray(10),
      };
    case ControlType.SynReply:
      need(payload, 4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: streamIdAt(0), fin, headerBlock: payload.subarray(4) };
    case ControlType.Headers:
      need(payload, 4, 'HEADERS');
      return { type: 'headers', streamId: streamIdAt(0), fin, headerBlock: payload.subarray(4) };
    case ControlType.RstStream:
      need(payload, 8, 'RST_STREAM');
      return { type: 'rst_stream', streamId: streamIdAt(0), status: payload.readUInt32BE(4) };
    case ControlType.Settings: {
      need(payload, 4, 'SETTINGS');
      const n = payload.readUInt32BE(0);
      need(payload, 4 + n * 8, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const idWord = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', entries };
    }
    case ControlType.Ping:
      need(payload, 4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case ControlType.GoAway:
      need(payload, 4, 'GOAWAY');
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    case ControlType.WindowUpdate:
      need(payload, 8, 'WINDOW_UPDATE');
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      // The spec says to ignore control frames of unknown type.
      return { type: 'unknown', controlType: type };
  }
}

function control(type: ControlType, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame payload of ${payload.length} bytes exceeds 24 bits`);
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`data frame payload of ${data.length} bytes exceeds 24 bits`);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE((((fin ? FLAG_FIN : 0) << 24) | data.length) >>> 0, 4);
  return Buffer.concat([head, data]);
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, opts: { fin?: boolean; associatedId?: number; priority?: number } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE((opts.associatedId ?? 0) & 0x7fffffff, 4);
  fixed[8] = ((opts.priority ?? 0) & 7) << 5;
  return control(ControlType.SynStream, opts.fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return control(ControlType.SynReply, fin ? FLAG_FIN : 0, Buffer.concat([u32s(streamId & 0x7fffffff), headerBlock]));
}

export function encodeRstStream(streamId: number, status: RstStatus): Buffer {
  return control(ControlType.RstStream, 0, u32s(streamId & 0x7fffffff, status));
}

export function encodePing(id: number): Buffer {
  return control(ControlType.Ping, 0, u32s(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: GoAwayStatus): Buffer {
  return control(ControlType.GoAway, 0, u32s(lastGoodStreamId & 0x7fffffff, status));
}

export function encodeSettings(entries: { flags: number; id: number; value: number }[]): Buffer {
  return control(ControlType.Settings, 0, u32s(entries.length, ...entries.flatMap((e) => [((e.flags << 24) | (e.id & 0xffffff)) >>> 0, e.value])));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return control(ControlType.WindowUpdate, 0, u32s(streamId & 0x7fffffff, delta & 0x7fffffff));
}
