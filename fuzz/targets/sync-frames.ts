// Jazzer.js target: the runtime's end of the sync socket (src/runtime/sync.ts), fed a byte stream
// cut into chunks where the input says, as a socket delivers it. Frames come out whole, in order,
// never longer than what arrived; an ERROR frame becomes a TsrunError; the stream ends.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { FrameType, SyncChannel } from '../../src/runtime/sync';
import { Finding, refusal } from '../oracle';

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length < 1) return;
  const sock = new EventEmitter() as unknown as Socket;
  const channel = new SyncChannel(sock, 'fuzz');
  // The first byte sets the chunk size: 1..256 bytes per 'data' event.
  const chunk = (data[0]! % 256) + 1;
  const stream = data.subarray(1);
  for (let off = 0; off < stream.length; off += chunk) sock.emit('data', stream.subarray(off, off + chunk));
  sock.emit('end');
  let total = 0;
  for (let f = await channel.next(); f; f = await channel.next()) {
    total += 8 + f.payload.length;
    if (total > stream.length) throw new Finding(`frames of ${total} bytes from a stream of ${stream.length}`);
    if (f.type === FrameType.Error) {
      // Alone on a channel of its own, as a create waiting for READY would get it.
      const sock2 = new EventEmitter() as unknown as Socket;
      const c = new SyncChannel(sock2, 'fuzz');
      const hdr = Buffer.alloc(8);
      hdr.writeUInt32LE(f.type, 0);
      hdr.writeUInt32LE(f.payload.length, 4);
      sock2.emit('data', Buffer.concat([hdr, f.payload]));
      try {
        await c.expect(FrameType.Ready, 'READY');
      } catch (e) {
        refusal(e);
        continue;
      }
      throw new Finding('an ERROR frame was taken for READY');
    }
  }
}
