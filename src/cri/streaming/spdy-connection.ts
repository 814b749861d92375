// The server side of a SPDY/3.1 session, as moby/spdystream (kubelet's and client-go's library)
// runs it: the client opens every stream (odd ids, increasing), the server replies or resets; PINGs
// from the client are echoed; no flow control (spdystream neither sends nor obeys WINDOW_UPDATE), so
// a stream whose reader falls behind pauses the whole connection, as spdystream's blocking frame
// workers do. Streams handed out are Duplexes that never emit 'error': a reset or a lost connection
// destroys them.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  DATA_CHUNK,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  GoAwayStatus,
  RstStatus,
  SPDY_VERSION,
  SpdyFrameParser,
  type SpdyFrame,
} from './spdy-frames';
import { SpdyHeaderCompressor, SpdyHeaderDecompressor, SpdyProtocolError, type SpdyHeaders } from './spdy-headers';

// A peer that neither closes nor reads after our GOAWAY is cut off after this long.
const CLOSE_GRACE_MS = 10_000;
const STREAM_BUFFER = 1024 * 1024;

export class SpdyStream extends Duplex {
  private replied = false;
  /** We sent FIN or RST, or the stream is unidirectional. */
  localFinished: boolean;
  /** The peer sent FIN or RST. */
  remoteFinished = false;
  /** Reset (by either side) or cut off: no more frames go out for it. */
  aborted = false;

  constructor(
    private readonly conn: SpdyConnection,
    readonly id: number,
    readonly headers: SpdyHeaders,
    unidirectional: boolean,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: STREAM_BUFFER });
    this.localFinished = unidirectional;
    // Our own failures destroy without an error; this only keeps a user's misuse (a write after
    // end) from crashing the whole server through an unhandled 'error'.
    this.on('error', () => {});
  }

  /** The stream's first value of a request header, '' if absent. */
  header(name: string): string {
    return this.headers[name.toLowerCase()]?.[0] ?? '';
  }

  /** SYN_REPLY: the stream is accepted. Writing replies implicitly. */
  accept(headers: SpdyHeaders = {}): void {
    if (this.replied || this.aborted) return;
    this.replied = true;
    this.conn.sendFrame(encodeSynReply(this.id, this.conn.compressHeaders(headers)));
  }

  /** RST_STREAM and forget the stream (kubelet's Reset). */
  reset(status: RstStatus = RstStatus.Cancel): void {
    if (this.aborted) return;
    this.replied = true;
    this.conn.sendFrame(encodeRstStream(this.id, status));
    this.abort();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.aborted || this.localFinished || !this.conn.writable) {
      cb(); // the peer is gone or reset the stream: drop, the 'close' that follows says so
      return;
    }
    this.accept();
    let written = 0;
    do {
      const piece = chunk.subarray(written, written + DATA_CHUNK);
      written += piece.length;
      const last = written >= chunk.length;
      this.conn.sendFrame(encodeData(this.id, piece, false), last ? () => cb() : undefined);
    } while (written < chunk.length);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.aborted && !this.localFinished && this.conn.writable) {
      this.accept();
      this.conn.sendFrame(encodeData(this.id, Buffer.alloc(0), true));
    }
    this.localFinished = true;
    this.conn.settle(this);
    cb();
  }

  override _read(): void {
    this.conn.resumeFor(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Destroyed by its user before both directions finished: tell the peer, as spdystream's Reset does.
    if (!this.aborted && (!this.localFinished || !this.remoteFinished) && this.conn.writable) {
      this.conn.sendFrame(encodeRstStream(this.id, RstStatus.Cancel));
    }
    this.abort();
    cb(err);
  }

  /** @internal frames from the connection */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFinished || this.aborted) return;
    if (data.length > 0 && !this.push(data)) this.conn.pauseFor(this);
    if (fin) this.onRemoteFin();
  }

  /** @internal */
  onRemoteFin(): void {
    if (this.remoteFinished || this.aborted) return;
    this.remoteFinished = true;
    this.push(null);
    this.conn.settle(this);
  }

  /** @internal the peer reset the stream or the connection is gone */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.localFinished = true;
    this.remoteFinished = true;
    this.conn.settle(this);
    if (!this.destroyed) this.destroy();
  }
}

export class SpdyConnection extends EventEmitter {
  private readonly parser = new SpdyFrameParser();
  private readonly compressor = new SpdyHeaderCompressor();
  private readonly decompressor = new SpdyHeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly pausedBy = new Set<SpdyStream>();
  private lastPeerStreamId = 0;
  private goneAway = false;
  private ended = false;
  private lost = false;

  /**
   * Emits 'stream' (SpdyStream) for each stream the client opens; the listener must accept() or
   * reset() it. Emits 'goaway' when the client sends GOAWAY and 'close' once the transport is gone.
   */
  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('error', () => this.onTransportGone());
    transport.on('close', () => this.onTransportGone());
    transport.on('end', () => {
      // The client hung up (sockets here allow half-open): finish our side so the socket closes.
      if (!this.ended) {
        this.ended = true;
        this.transport.end();
      }
      this.onTransportGone();
    });
  }

  /** Whether frames can still be sent. */
  get writable(): boolean {
    return !this.ended && !this.lost;
  }

  /** Replays bytes that arrived with the HTTP upgrade request, before the transport was handed over. */
  feed(bytes: Buffer): void {
    if (bytes.length > 0) this.onBytes(bytes);
  }

  /** @internal */
  compressHeaders(headers: SpdyHeaders): Buffer {
    return this.compressor.compress(headers);
  }

  /** @internal */
  sendFrame(frame: Buffer, cb?: () => void): void {
    if (!this.writable) {
      cb?.();
      return;
    }
    this.transport.write(frame, cb ? () => cb() : undefined);
  }

  /** @internal a stream's buffer is full: stop reading the socket until it drains */
  pauseFor(stream: SpdyStream): void {
    this.pausedBy.add(stream);
    this.transport.pause();
  }

  /** @internal */
  resumeFor(stream: SpdyStream): void {
    if (this.pausedBy.delete(stream) && this.pausedBy.size === 0 && !this.lost) this.transport.resume();
  }

  /** @internal forget a stream once both directions are finished */
  settle(stream: SpdyStream): void {
    if (stream.localFinished && stream.remoteFinished && this.streams.get(stream.id) === stream) {
      this.streams.delete(stream.id);
      this.resumeFor(stream);
    }
  }

  /**
   * kubelet's Close: reset the streams still open, GOAWAY, then half-close the transport and let the
   * client hang up (cut off after a grace period).
   */
  close(): void {
    if (!this.writable) return;
    for (const s of [...this.streams.values()]) {
      if (!s.localFinished) s.reset(RstStatus.Cancel);
      else s.abort();
    }
    this.goneAway = true;
    this.transport.write(encodeGoAway(this.lastPeerStreamId, GoAwayStatus.Ok));
    this.ended = true;
    this.transport.end();
    this.transport.resume(); // drain whatever the client still sends until it closes
    setTimeout(() => this.transport.destroy(), CLOSE_GRACE_MS).unref();
  }

  private onTransportGone(): void {
    if (this.lost) return;
    this.lost = true;
    for (const s of [...this.streams.values()]) s.abort();
    this.streams.clear();
    this.emit('close');
  }

  private onBytes(chunk: Buffer): void {
    if (this.lost) return;
    let frames: SpdyFrame[];
    try {
      frames = this.parser.push(chunk);
      for (const frame of frames) {
        if (this.lost) return;
        this.onFrame(frame);
      }
    } catch (e) {
      // A protocol error is the client's; anything else is a bug in a stream handler. Either way it
      // ends this connection, not the server.
      this.protocolError(e instanceof SpdyProtocolError ? e.message : `internal error: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }

  private protocolError(message: string): void {
    this.emit('protocol-error', message);
    if (this.writable) this.transport.write(encodeGoAway(this.lastPeerStreamId, GoAwayStatus.ProtocolError));
    this.ended = true;
    this.transport.end();
    setTimeout(() => this.transport.destroy(), CLOSE_GRACE_MS).unref();
    this.onTransportGone();
  }

  private onFrame(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'syn_stream': {
        // Decompress even a stream we refuse: the zlib context spans every header block.
        const headers = this.decompressor.decompress(frame.headerBlock);
        if (frame.streamId % 2 === 0 || frame.streamId <= this.lastPeerStreamId) {
          this.sendFrame(encodeRstStream(frame.streamId, RstStatus.ProtocolError));
          return;
        }
        this.lastPeerStreamId = frame.streamId;
        if (frame.version !== SPDY_VERSION) {
          this.sendFrame(encodeRstStream(frame.streamId, RstStatus.UnsupportedVersion));
          return;
        }
        if (this.goneAway) {
          this.sendFrame(encodeRstStream(frame.streamId, RstStatus.RefusedStream));
          return;
        }
        const stream = new SpdyStream(this, frame.streamId, headers, frame.unidirectional);
        this.streams.set(stream.id, stream);
        if (frame.fin) stream.onRemoteFin();
        if (this.listenerCount('stream') === 0) stream.reset(RstStatus.RefusedStream);
        else this.emit('stream', stream);
        return;
      }
      case 'headers': {
        this.decompressor.decompress(frame.headerBlock);
        if (frame.fin) this.streams.get(frame.streamId)?.onRemoteFin();
        return;
      }
      case 'syn_reply':
        // Only the client opens streams here; keep the zlib context in step and ignore it.
        this.decompressor.decompress(frame.headerBlock);
        return;
      case 'data':
        this.streams.get(frame.streamId)?.onData(frame.data, frame.fin);
        return;
      case 'rst_stream':
        this.streams.get(frame.streamId)?.abort();
        return;
      case 'ping':
        // Odd ids are the client's pings (client-go sends one every 5 s): echo; even ones answer ours.
        if (frame.id % 2 === 1) this.sendFrame(encodePing(frame.id));
        return;
      case 'goaway':
        this.goneAway = true;
        this.emit('goaway');
        return;
      case 'settings':
      case 'window_update':
      case 'unknown':
        return;
    }
  }
}
