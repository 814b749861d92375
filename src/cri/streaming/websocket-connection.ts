// The server side of an RFC 6455 connection after the handshake: reassembles fragmented messages
// (control frames may come between fragments), answers pings (client-go pings every 5 s and gives up
// after 61 s without a pong), and runs the closing handshake.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, encodeClose, encodeFrame, isControl, Opcode, WebSocketFrameParser, WebSocketProtocolError, type WebSocketFrame } from './websocket-frames';

const MAX_MESSAGE = 32 * 1024 * 1024;
// A peer that does not answer our close frame, or never closes the socket, is cut off after this.
const CLOSE_GRACE_MS = 10_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WebSocketConnection extends EventEmitter {
  private readonly parser = new WebSocketFrameParser(true, MAX_MESSAGE);
  private fragments: Buffer[] = [];
  private fragmentOpcode = -1;
  private fragmentBytes = 0;
  private closeSent = false;
  private gone = false;
  private closeCode: number = CloseCode.GoingAway;

  /**
   * Emits 'message' (data: Buffer, binary: boolean), and 'close' (the client's close code) once no
   * more messages can come: its close frame arrived or the socket is gone.
   */
  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', () => this.onGone());
    socket.on('close', () => this.onGone());
    socket.on('end', () => {
      // The client hung up (sockets here allow half-open): finish our side so the socket closes.
      this.socket.end();
      this.onGone();
    });
  }

  get open(): boolean {
    return !this.closeSent && !this.gone;
  }

  /** Replays bytes that arrived with the upgrade request. */
  feed(bytes: Buffer): void {
    if (bytes.length > 0) this.onBytes(bytes);
  }

  /** One message in one frame; cb once the socket took it (for back-pressure). Dropped after close. */
  send(data: Buffer, binary: boolean, cb?: () => void): void {
    if (!this.open) {
      cb?.();
      return;
    }
    this.socket.write(encodeFrame(binary ? Opcode.Binary : Opcode.Text, data), cb ? () => cb() : undefined);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.gone) this.socket.resume();
  }

  /** Starts the closing handshake; the socket ends when the client answers (or after a grace period). */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closeSent || this.gone) return;
    this.closeSent = true;
    this.socket.write(encodeFrame(Opcode.Close, encodeClose(code, reason)));
    this.socket.resume(); // keep reading: the client's close frame completes the handshake
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private onGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.emit('close', this.closeCode);
  }

  private onBytes(chunk: Buffer): void {
    if (this.gone) return;
    try {
      for (const frame of this.parser.push(chunk)) {
        if (this.gone) return;
        this.onFrame(frame);
      }
    } catch (e) {
      // A protocol error is the client's; anything else is a bug in a message handler. Either way it
      // ends this connection, not the server.
      const protocolError = e instanceof WebSocketProtocolError;
      this.emit('protocol-error', protocolError ? e.message : `internal error: ${e instanceof Error ? e.stack : String(e)}`);
      this.close(protocolError ? e.closeCode : CloseCode.InternalError, protocolError ? e.message : 'internal error');
      this.socket.end();
      this.onGone();
    }
  }

  private onFrame(frame: WebSocketFrame): void {
    if (isControl(frame.opcode)) return this.onControl(frame);
    if (this.closeSent) return; // after our close frame, data is no longer delivered
    if (frame.opcode === Opcode.Continuation) {
      if (this.fragmentOpcode < 0) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'continuation frame without a message to continue');
    } else {
      if (this.fragmentOpcode >= 0) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'new message started before the fragmented one finished');
      this.fragmentOpcode = frame.opcode;
    }
    this.fragmentBytes += frame.payload.length;
    if (this.fragmentBytes > MAX_MESSAGE) throw new WebSocketProtocolError(CloseCode.TooBig, `message exceeds ${MAX_MESSAGE} bytes`);
    this.fragments.push(frame.payload);
    if (!frame.fin) return;
    const data = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    const binary = this.fragmentOpcode === Opcode.Binary;
    this.fragments = [];
    this.fragmentOpcode = -1;
    this.fragmentBytes = 0;
    if (!binary) {
      try {
        utf8.decode(data);
      } catch {
        throw new WebSocketProtocolError(CloseCode.InvalidData, 'text message is not valid UTF-8');
      }
    }
    this.emit('message', data, binary);
  }

  private onControl(frame: WebSocketFrame): void {
    switch (frame.opcode) {
      case Opcode.Ping:
        if (!this.closeSent) this.socket.write(encodeFrame(Opcode.Pong, frame.payload));
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close: {
        if (frame.payload.length === 1) throw new WebSocketProtocolError(CloseCode.ProtocolError, 'close frame with a 1-byte payload');
        this.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : CloseCode.Normal;
        if (!this.closeSent) {
          // Echo the status, as RFC 6455 5.5.1 asks, then hang up.
          this.closeSent = true;
          this.socket.write(encodeFrame(Opcode.Close, frame.payload.length >= 2 ? frame.payload.subarray(0, 2) : Buffer.alloc(0)));
        }
        this.socket.end();
        setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
        this.onGone();
        return;
      }
    }
  }
}
