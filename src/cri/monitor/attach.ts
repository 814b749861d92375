// DIR/attach.sock, the client side. Frames both ways are [kind u8][length u32 LE][payload]:
//   from the monitor: 1 stdout, 2 stderr, 3 exit (payload: exit code, u32 LE)
//   to the monitor:   0 stdin data, 1 close stdin, 2 resize (payload: rows u16 LE, cols u16 LE)
// A client that does not read its output fast enough is disconnected by the monitor.
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { MonitorFile, connectUnix } from './files';

export enum OutputFrame {
  Stdout = 1,
  Stderr = 2,
  Exit = 3,
}

export enum InputFrame {
  Stdin = 0,
  CloseStdin = 1,
  Resize = 2,
}

export interface AttachSession {
  stdout: Readable;
  /** empty for a tty: its output all comes as stdout */
  stderr: Readable;
  writeStdin(data: Buffer | string): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  /** the exit code once the container exits; undefined if the connection ended first */
  exited: Promise<number | undefined>;
  close(): void;
}

function frame(kind: InputFrame, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = kind;
  head.writeUInt32LE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export async function attach(dir: string): Promise<AttachSession> {
  const sock = await connectUnix(dir, MonitorFile.attach);
  return session(sock);
}

function session(sock: Socket): AttachSession {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let exitCode: number | undefined;
  let pending: Buffer = Buffer.alloc(0);
  let resolveExit!: (code: number | undefined) => void;
  const exited = new Promise<number | undefined>((r) => (resolveExit = r));

  // Our reader is slow: stop reading the socket until it catches up.
  const push = (to: PassThrough, data: Buffer): void => {
    if (!to.write(data)) {
      sock.pause();
      to.once('drain', () => sock.resume());
    }
  };
  sock.on('data', (d: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 5) {
      const len = pending.readUInt32LE(1);
      if (pending.length < 5 + len) break;
      const payload = pending.subarray(5, 5 + len);
      if (pending[0] === OutputFrame.Stdout) push(stdout, payload);
      else if (pending[0] === OutputFrame.Stderr) push(stderr, payload);
      else if (pending[0] === OutputFrame.Exit && len >= 4) exitCode = payload.readUInt32LE(0);
      pending = pending.subarray(5 + len);
    }
  });
  sock.on('error', () => undefined); // ends in 'close' below
  sock.on('close', () => {
    stdout.end();
    stderr.end();
    resolveExit(exitCode);
  });

  const send = (b: Buffer): void => {
    if (!sock.destroyed && sock.writable) sock.write(b);
  };
  return {
    stdout,
    stderr,
    exited,
    writeStdin: (data) => send(frame(InputFrame.Stdin, Buffer.isBuffer(data) ? data : Buffer.from(data))),
    closeStdin: () => send(frame(InputFrame.CloseStdin)),
    resize: (rows, cols) => {
      const p = Buffer.alloc(4);
      p.writeUInt16LE(rows & 0xffff, 0);
      p.writeUInt16LE(cols & 0xffff, 2);
      send(frame(InputFrame.Resize, p));
    },
    close: () => sock.destroy(),
  };
}
