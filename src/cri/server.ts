// The CRI server: RuntimeService and ImageService on a unix socket, the streaming server on
// loopback, records reloaded from disk at start (so a restart loses nothing), and a watch on
// the monitors' exit records that turns exits into container events.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { logDebug, logWarn } from '../common/log';
import { ensureDir, PASSAGE } from '../common/private-dir';
import { keepLease, refreshExit, releaseRuntime } from './container/lifecycle';
import { reconcileSandbox } from './sandbox/lifecycle';
import { CriContext } from './context';
import { toServiceError } from './errors';
import * as images from './images/service';
import { socketPath, type CriOptions } from './options';
import { loadCri } from './proto';
import * as containers from './runtime/containers';
import { GetContainerEvents } from './runtime/events';
import * as sandboxes from './runtime/sandboxes';
import * as metrics from './runtime/metrics';
import * as stats from './runtime/stats';
import * as status from './runtime/status';
import { ExecSync, StreamRuntimeImpl, streamRpcs } from './runtime/streams';
import { watchExit } from './monitor';
import { StreamingServer } from './streaming/server';

type Handler = (ctx: CriContext, req: never) => Promise<unknown>;

function unary(ctx: CriContext, name: string, fn: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const t0 = Date.now();
    fn(ctx, call.request as never).then(
      (res) => {
        logDebug(`cri ${name} ok in ${Date.now() - t0} ms`);
        callback(null, res);
      },
      (e: unknown) => {
        const err = toServiceError(e);
        logDebug(`cri ${name} failed in ${Date.now() - t0} ms: ${err.details}`);
        callback(err as grpc.ServiceError);
      },
    );
  };
}

export class CriServer {
  readonly ctx: CriContext;
  readonly streaming: StreamingServer;
  private readonly grpc = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 });
  /** per live container: stops its exit watch */
  private readonly exitWatches = new Map<string, () => void>();

  constructor(opts: CriOptions) {
    this.ctx = new CriContext(opts);
    this.streaming = new StreamingServer(new StreamRuntimeImpl(this.ctx), { host: opts.streamHost, port: opts.streamPort });
  }

  async start(): Promise<void> {
    const { ctx } = this;
    for (const d of [ctx.opts.stateDir, ctx.opts.runDir]) fs.mkdirSync(d, { recursive: true, mode: 0o711 });
    // ImageFsInfo names the store as the image filesystem, which the kubelet stats before any pull.
    ensureDir(ctx.opts.store, PASSAGE);
    ctx.load();
    for (const d of [ctx.paths.monitorDir('x'), ctx.paths.sandboxRun('x')]) ctx.trash.sweep(path.dirname(d));
    // Reconcile with what is alive: exits recorded while we were down, monitors gone, pods lost;
    // what ended while we were down is released as it would have been at its exit.
    for (const c of ctx.containers.all()) {
      keepLease(ctx, c);
      if (!refreshExit(ctx, c) && c.state === 'CONTAINER_EXITED') void releaseRuntime(ctx, c);
    }
    for (const s of ctx.sandboxes.all()) reconcileSandbox(ctx, s);
    await this.streaming.start();

    const cri = loadCri();
    const streams = streamRpcs(() => this.streaming);
    const rt: Record<string, Handler> = { ...sandboxes, ...containers, ...stats, ...metrics, ...status, ...streams, ExecSync } as unknown as Record<string, Handler>;
    const runtimeHandlers: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(cri.RuntimeService)) {
      if (name === 'GetContainerEvents') runtimeHandlers[name] = ((call: grpc.ServerWritableStream<never, never>) => GetContainerEvents(ctx, call as never)) as grpc.UntypedHandleCall;
      else if (rt[name]) runtimeHandlers[name] = unary(ctx, name, rt[name]!);
    }
    const imageHandlers: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(cri.ImageService)) {
      const fn = (images as unknown as Record<string, Handler>)[name];
      if (fn) imageHandlers[name] = unary(ctx, name, fn);
    }
    this.grpc.addService(cri.RuntimeService, runtimeHandlers);
    this.grpc.addService(cri.ImageService, imageHandlers);

    const sock = socketPath(ctx.opts.listen);
    fs.mkdirSync(path.dirname(sock), { recursive: true });
    fs.rmSync(sock, { force: true });
    await new Promise<void>((resolve, reject) =>
      this.grpc.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    fs.chmodSync(sock, 0o660);
    // Exits are written by the monitors (exit.json, renamed into place): a watch on each live
    // container's monitor dir turns them into events at once, with no polling.
    for (const c of ctx.containers.all()) this.watchExit(c.id);
    ctx.events.on('container', (e: { container_id?: string; container_event_type?: string }) => {
      if (e.container_event_type === 'CONTAINER_STARTED_EVENT') this.watchExit(e.container_id!);
      if (e.container_event_type === 'CONTAINER_DELETED_EVENT') this.exitWatches.get(e.container_id!)?.();
    });
  }

  private watchExit(id: string): void {
    const c = this.ctx.containers.get(id);
    // A container without a monitor was never started: there is no exit to wait for yet.
    if (!c?.monitor || (c.state !== 'CONTAINER_CREATED' && c.state !== 'CONTAINER_RUNNING') || this.exitWatches.has(id)) return;
    const stop = watchExit(this.ctx.paths.monitorDir(id), () => {
      this.exitWatches.delete(id);
      const rec = this.ctx.containers.get(id);
      try {
        if (rec) refreshExit(this.ctx, rec);
      } catch (e) {
        logWarn(`container ${id}: ${(e as Error).message}`);
      }
    });
    // watchExit may have called back at once (an exit already recorded): then nothing to keep.
    if (this.ctx.containers.get(id)?.state !== 'CONTAINER_EXITED') this.exitWatches.set(id, () => {
      stop();
      this.exitWatches.delete(id);
    });
  }

  async stop(): Promise<void> {
    for (const stop of [...this.exitWatches.values()]) stop();
    await new Promise<void>((resolve) => this.grpc.tryShutdown(() => resolve()));
    await this.streaming.close();
    await Promise.all([...this.ctx.releasing.values()]);
    await this.ctx.trash.drained();
    fs.rmSync(socketPath(this.ctx.opts.listen), { force: true });
  }
}
