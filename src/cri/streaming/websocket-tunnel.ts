// A byte stream carried in WebSocket binary messages, as client-go's TunnelingConnection frames SPDY
// for port-forward over WebSocket: message boundaries mean nothing, ending the stream closes the
// WebSocket.
import { Duplex } from 'node:stream';
import type { WebSocketConnection } from './websocket-connection';
import { CloseCode } from './websocket-frames';

export class WebSocketTunnel extends Duplex {
  constructor(private readonly ws: WebSocketConnection) {
    super({ allowHalfOpen: false });
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        ws.close(CloseCode.InvalidData, 'tunnel messages must be binary');
        return;
      }
      if (!this.push(data)) ws.pause();
    });
    ws.once('close', () => {
      this.push(null);
      this.destroy();
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.ws.send(chunk, true, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.ws.close(CloseCode.Normal);
    cb();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.ws.close(CloseCode.Normal);
    cb(err);
  }
}
