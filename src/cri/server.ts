// The CRI server: RuntimeService and ImageService on a unix socket, the streaming server on
// loopback, records reloaded from disk at start (so a restart loses nothing), and a watch on
// the monitors' exit records that turns exits into container events.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { logDebug, logWarn } from '../common/log';
import { ensureDir, PASSAGE } from '../common/private-dir';
import { keepLease, refreshExit, releaseRuntime } from './container/lifecycle';
import { sweepOrphans } from './orphans';
import { reconcileSandbox } from './sandbox/lifecycle';
import { CriContext } from './context';
import { toServiceError } from './errors';
import * as images from './images/service';
import { socketPath, type CriOptions } from './options';
import { loadCri } from './proto';
import * as containers from './rpc/containers';
import { GetContainerEvents } from './rpc/events';
import * as sandboxes from './rpc/sandboxes';
import * as metrics from './rpc/metrics';
import * as stats from './rpc/stats';
import * as status from './rpc/status';
import { ExecSync, StreamRuntimeImpl, streamRpcs } from './rpc/streams';
import { watchExit } from './monitor';
import { StreamingServer } from './streaming/server';
import type { ImageServiceHandlers } from './generated/runtime/v1/ImageService';
import type { RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService';

/** The named RPCs of a generated service (its index signature left out). */
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
/** How an RPC is served here: the server's context and the request, resolving to the reply. */
type Unary<H> = H extends grpc.handleUnaryCall<infer Req, infer Res> ? (ctx: CriContext, req: Req) => Promise<Res> : never;
/** The unary RPCs of a service, typed against its generated definition: a misspelt or mistyped handler does not compile. */
type UnaryTable<S> = { [K in keyof Named<S> as Named<S>[K] extends grpc.handleUnaryCall<infer _Req, infer _Res> ? K : never]?: Unary<Named<S>[K]> };

function unary<Req, Res>(ctx: CriContext, name: string, fn: (ctx: CriContext, req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const t0 = Date.now();
    fn(ctx, call.request).then(
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

/** Handlers of every unary RPC in the table; an RPC without one answers UNIMPLEMENTED. */
function handlersOf<S>(ctx: CriContext, table: UnaryTable<S>): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(table) as [string, (ctx: CriContext, req: unknown) => Promise<unknown>][])
    out[name] = unary(ctx, name, fn) as grpc.UntypedHandleCall;
  return out;
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
    // What a crash inside RunPodSandbox or CreateContainer made before its record was saved.
    await sweepOrphans(ctx);
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
    const runtimeRpcs: UnaryTable<RuntimeServiceHandlers> = {
      Version: status.Version,
      Status: status.Status,
      RuntimeConfig: status.RuntimeConfig,
      UpdateRuntimeConfig: status.UpdateRuntimeConfig,
      CheckpointContainer: status.CheckpointContainer,
      RunPodSandbox: sandboxes.RunPodSandbox,
      StopPodSandbox: sandboxes.StopPodSandbox,
      RemovePodSandbox: sandboxes.RemovePodSandbox,
      PodSandboxStatus: sandboxes.PodSandboxStatus,
      ListPodSandbox: sandboxes.ListPodSandbox,
      UpdatePodSandboxResources: sandboxes.UpdatePodSandboxResources,
      CreateContainer: containers.CreateContainer,
      StartContainer: containers.StartContainer,
      StopContainer: containers.StopContainer,
      RemoveContainer: containers.RemoveContainer,
      ListContainers: containers.ListContainers,
      ContainerStatus: containers.ContainerStatus,
      UpdateContainerResources: containers.UpdateContainerResources,
      ReopenContainerLog: containers.ReopenContainerLog,
      ExecSync,
      Exec: streams.Exec,
      Attach: streams.Attach,
      PortForward: streams.PortForward,
      ContainerStats: stats.ContainerStats,
      ListContainerStats: stats.ListContainerStats,
      PodSandboxStats: stats.PodSandboxStats,
      ListPodSandboxStats: stats.ListPodSandboxStats,
      ListMetricDescriptors: metrics.ListMetricDescriptors,
      ListPodSandboxMetrics: metrics.ListPodSandboxMetrics,
    };
    const imageRpcs: UnaryTable<ImageServiceHandlers> = {
      ListImages: images.ListImages,
      ImageStatus: images.ImageStatus,
      PullImage: images.PullImage,
      RemoveImage: images.RemoveImage,
      ImageFsInfo: images.ImageFsInfo,
    };
    const runtimeHandlers = handlersOf(ctx, runtimeRpcs);
    runtimeHandlers['GetContainerEvents'] = ((call: grpc.ServerWritableStream<never, never>) =>
      GetContainerEvents(ctx, call as never)) as grpc.UntypedHandleCall;
    const imageHandlers = handlersOf(ctx, imageRpcs);
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
    if (this.ctx.containers.get(id)?.state !== 'CONTAINER_EXITED')
      this.exitWatches.set(id, () => {
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
