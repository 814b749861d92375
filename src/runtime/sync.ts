// The runtime's end of the sync socket (frame table in native/init/sync.h).
import type { Socket } from 'node:net';
import { TsrunError } from '../common/errors';
import { emit } from '../events/bus';
import { STEP_KINDS, type StepKind } from '../events/types';

export const enum FrameType {
  Plan = 1,
  Pid = 2,
  Continue = 3,
  Ready = 4,
  Error = 5,
  Event = 6,
  Joined = 7,
}

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

export class SyncChannel {
  private buf = Buffer.alloc(0);
  private frames: Frame[] = [];
  private waiter?: (f: Frame | null) => void;
  private ended = false;
  /** B's JOINED: out of band, since it may come before or after A's PID */
  private joined = false;
  private joinWaiter?: (f: Frame | null) => void;

  constructor(
    private readonly sock: Socket,
    private readonly containerId: string,
  ) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('end', () => this.onEnd());
    sock.on('close', () => this.onEnd());
    sock.on('error', () => this.onEnd());
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      const frame = { type: this.buf.readUInt32LE(0) as FrameType, payload: this.buf.subarray(8, 8 + len) };
      this.buf = this.buf.subarray(8 + len);
      if (frame.type === FrameType.Event) this.onEvent(frame.payload);
      else if (frame.type === FrameType.Joined) this.onJoined(frame);
      else this.push(frame);
    }
  }

  private onEvent(p: Buffer): void {
    const [step, detail, us] = p.toString('utf8').split('\0');
    const kind = (STEP_KINDS as readonly string[]).includes(step!) ? (step as StepKind) : 'namespace';
    emit(kind, detail ?? '', Number(us ?? 0), this.containerId);
  }

  private onJoined(f: Frame): void {
    this.joined = true;
    const w = this.joinWaiter;
    this.joinWaiter = undefined;
    w?.(f);
  }

  private push(f: Frame): void {
    // An error while we wait for JOINED is the answer to that wait.
    if (this.joinWaiter && f.type === FrameType.Error) {
      const w = this.joinWaiter;
      this.joinWaiter = undefined;
      w(f);
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(f);
    } else this.frames.push(f);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(null);
    }
    if (this.joinWaiter) {
      const w = this.joinWaiter;
      this.joinWaiter = undefined;
      w(null);
    }
  }

  send(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): void {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(type, 0);
    hdr.writeUInt32LE(body.length, 4);
    this.sock.write(Buffer.concat([hdr, body]));
  }

  /** The next frame, or null at EOF. */
  next(): Promise<Frame | null> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Waits for `type`; an ERROR frame or EOF becomes a TsrunError. */
  async expect(type: FrameType, what: string): Promise<Buffer> {
    const f = await this.next();
    if (!f) throw new TsrunError('TSRUN_E_INIT', `container init exited before ${what}`);
    if (f.type === FrameType.Error) throw initError(f.payload);
    if (f.type !== type) throw new TsrunError('TSRUN_E_INIT', `unexpected sync frame ${f.type} while waiting for ${what}`);
    return f.payload;
  }

  /** Waits for B's JOINED (it placed itself in its cgroups); an ERROR frame or EOF becomes a TsrunError. */
  async expectJoined(): Promise<void> {
    if (this.joined) return;
    const errorFirst = this.frames.findIndex((f) => f.type === FrameType.Error);
    if (errorFirst >= 0) throw initError(this.frames.splice(errorFirst, 1)[0]!.payload);
    if (this.ended) throw new TsrunError('TSRUN_E_INIT', 'container init exited before placing itself in its cgroups');
    const f = await new Promise<Frame | null>((resolve) => (this.joinWaiter = resolve));
    if (!f) throw new TsrunError('TSRUN_E_INIT', 'container init exited before placing itself in its cgroups');
    if (f.type === FrameType.Error) throw initError(f.payload);
  }

  /** exec mode: EOF after CONTINUE means execve succeeded. */
  async expectExec(): Promise<void> {
    const f = await this.next();
    if (f === null) return;
    if (f.type === FrameType.Error) throw initError(f.payload);
    throw new TsrunError('TSRUN_E_INIT', `unexpected sync frame ${f.type} while waiting for exec`);
  }

  close(): void {
    this.sock.destroy();
  }
}

function initError(payload: Buffer): TsrunError {
  const [errno, msg] = payload.toString('utf8').split('\0');
  return new TsrunError('TSRUN_E_INIT', msg ?? 'container init failed', Number(errno) || undefined);
}
