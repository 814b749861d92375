// The CRI server: RuntimeService and ImageService on a unix socket, the streaming server on
// loopback, records reloaded from disk at start (so a restart loses nothing), and a watch on
// the monitors' exit records that turns exits into container events.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { logDebug, logWarn } from '../common/log';
import { refreshExit } from './container/lifecycle';
import { CriContext } from './context';
import { toServiceError } from './errors';
import * as images from './images/service';
import { socketPath, type CriOptions } from './options';
import { loadCri } from './proto';
import * as containers from './runtime/containers';
import { GetContainerEvents } from './runtime/events';
import * as sandboxes from './runtime/sandboxes';
import * as stats from './runtime/stats';
import * as status from './runtime/status';
import { ExecSync, StreamRuntimeImpl, streamRpcs } from './runtime/streams';
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
  private watcher: NodeJS.Timeout | undefined;

  constructor(opts: CriOptions) {
    this.ctx = new CriContext(opts);
    this.streaming = new StreamingServer(new StreamRuntimeImpl(this.ctx), { host: opts.streamHost, port: opts.streamPort });
  }

  async start(): Promise<void> {
    const { ctx } = this;
    for (const d of [ctx.opts.stateDir, ctx.opts.runDir]) fs.mkdirSync(d, { recursive: true, mode: 0o711 });
    // ImageFsInfo names the store as the image filesystem, which the kubelet stats before any pull.
    fs.mkdirSync(ctx.opts.store, { recursive: true, mode: 0o700 });
    ctx.load();
    for (const c of ctx.containers.all()) refreshExit(ctx, c);
    await this.streaming.start();

    const cri = loadCri();
    const streams = streamRpcs(() => this.streaming);
    const rt: Record<string, Handler> = { ...sandboxes, ...containers, ...stats, ...status, ...streams, ExecSync } as unknown as Record<string, Handler>;
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
    // Exits are written by the monitors; looking every 200 ms turns them into events promptly
    // without an inotify watch per container.
    this.watcher = setInterval(() => {
      for (const c of ctx.containers.all()) {
        try {
          refreshExit(ctx, c);
        } catch (e) {
          logWarn(`container ${c.id}: ${(e as Error).message}`);
        }
      }
    }, 200);
    this.watcher.unref();
  }

  async stop(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    await new Promise<void>((resolve) => this.grpc.tryShutdown(() => resolve()));
    await this.streaming.close();
    fs.rmSync(socketPath(this.ctx.opts.listen), { force: true });
  }
}
