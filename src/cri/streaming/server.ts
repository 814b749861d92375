// The CRI streaming server: Exec, Attach and PortForward return a URL here; kubelet, kubectl or
// crictl connect to it and upgrade to SPDY/3.1 or WebSocket. Routes and checks follow kubelet's
// pkg/cri/streaming server: /exec/{token}, /attach/{token}, /portforward/{token}, GET or POST.
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TsrunError } from '../../common/errors';
import { logDebug } from '../../common/log';
import { methodNotAllowed, negotiateSpdy, negotiateWebSocket, notFound, rawReply, isWebSocketRequest, type HttpReply } from './handshake';
import {
  serveSpdyPortForward,
  serveWebSocketPortForward,
  SPDY_PORTFORWARD_PROTOCOLS,
  parsePort,
  WEBSOCKET_PORTFORWARD_PROTOCOLS,
  WEBSOCKET_TUNNEL_PROTOCOL,
} from './portforward';
import { runCommand, SPDY_COMMAND_PROTOCOLS, WEBSOCKET_COMMAND_PROTOCOLS, type CommandOptions, type CommandTarget } from './remotecommand';
import { acceptSpdyCommandStreams } from './remotecommand-spdy';
import { websocketCommandStreams } from './remotecommand-websocket';
import { SpdyConnection } from './spdy-connection';
import { TokenCache, type CachedRequest } from './token-cache';
import type { AttachRequest, ExecRequest, PortForwardRequest, StreamingRuntime } from './types';
import { WebSocketConnection } from './websocket-connection';
import { WebSocketTunnel } from './websocket-tunnel';

// kubelet's default StreamIdleTimeout.
const IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

function usage(message: string): never {
  throw new TsrunError('TSRUN_E_USAGE', message);
}

function validateStreams(what: string, req: { container_id: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (!req.container_id) usage(`${what}: missing required container_id`);
  // A tty has one output: stderr cannot be told apart from stdout.
  if (req.tty && req.stderr) usage(`${what} ${req.container_id}: tty and stderr cannot both be true`);
  if (!req.stdin && !req.stdout && !req.stderr) usage(`${what} ${req.container_id}: one of stdin, stdout, or stderr must be set`);
}

export class StreamingServer {
  private readonly server: http.Server;
  private readonly tokens = new TokenCache();
  private readonly sockets = new Set<Duplex>();
  private readonly host: string;
  private readonly port: number;
  private listening?: AddressInfo;

  constructor(
    private readonly runtime: StreamingRuntime,
    opts: { host?: string; port?: number } = {},
  ) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('connection', (socket: Duplex) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new TsrunError('TSRUN_E_SYS', `streaming server: cannot listen on ${this.host}:${this.port}: ${e.message}`));
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        this.listening = this.server.address() as AddressInfo;
        resolve();
      });
    });
  }

  /** Stops listening and cuts every connection, upgraded ones included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  get baseUrl(): string {
    if (!this.listening) throw new TsrunError('TSRUN_E_STATE', 'streaming server: not started (call start() before asking for URLs)');
    const { address, port } = this.listening;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  getExec(req: ExecRequest): string {
    validateStreams('exec', req);
    return this.url('exec', { kind: 'exec', req: { ...req, cmd: [...req.cmd] } });
  }

  getAttach(req: AttachRequest): string {
    validateStreams('attach', req);
    return this.url('attach', { kind: 'attach', req: { ...req } });
  }

  getPortForward(req: PortForwardRequest): string {
    if (!req.pod_sandbox_id) usage('port-forward: missing required pod_sandbox_id');
    for (const p of req.port) {
      if (!Number.isInteger(p) || p < 1 || p > 0xffff) usage(`port-forward ${req.pod_sandbox_id}: port ${p} is not in 1-65535`);
    }
    return this.url('portforward', { kind: 'portforward', req: { ...req, port: [...req.port] } });
  }

  private url(path: string, request: CachedRequest): string {
    const base = this.baseUrl;
    return `${base}/${path}/${this.tokens.insert(request)}`;
  }

  /** The cached request a URL names, consuming its token, or the HTTP error to answer with. */
  private route(req: http.IncomingMessage): { request: CachedRequest; url: URL } | HttpReply {
    const url = new URL(req.url ?? '/', 'http://streaming.invalid');
    const m = /^\/(exec|attach|portforward)\/([^/]+)$/.exec(url.pathname);
    if (!m) return notFound();
    if (req.method !== 'GET' && req.method !== 'POST') return methodNotAllowed();
    const request = this.tokens.consume(m[2]!);
    if (!request || request.kind !== m[1]) return notFound();
    return { request, url };
  }

  // A plain request is never served (streams need an upgrade) but, as kubelet, consumes the token
  // and gets the handshake's error.
  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const routed = this.route(req);
    let reply: HttpReply;
    if ('status' in routed) reply = routed;
    else {
      const protocols = routed.request.kind === 'portforward' ? SPDY_PORTFORWARD_PROTOCOLS : SPDY_COMMAND_PROTOCOLS;
      const n = negotiateSpdy(req, protocols);
      reply = n.ok ? { status: 400, body: 'unable to upgrade: missing upgrade headers in request\n' } : n.reply;
    }
    res.writeHead(reply.status, reply.headers ?? []);
    res.end(reply.body ?? '');
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (e) => logDebug(`streaming: connection error: ${e.message}`));
    const routed = this.route(req);
    if ('status' in routed) return this.refuse(socket, routed);
    const { request, url } = routed;
    const websocket = isWebSocketRequest(req);
    const protocols =
      request.kind === 'portforward'
        ? websocket
          ? WEBSOCKET_PORTFORWARD_PROTOCOLS
          : SPDY_PORTFORWARD_PROTOCOLS
        : websocket
          ? WEBSOCKET_COMMAND_PROTOCOLS
          : SPDY_COMMAND_PROTOCOLS;
    const n = websocket ? negotiateWebSocket(req, protocols) : negotiateSpdy(req, protocols);
    if (!n.ok) return this.refuse(socket, n.reply);

    let ports: number[] = [];
    if (request.kind === 'portforward' && websocket && n.protocol !== WEBSOCKET_TUNNEL_PROTOCOL) {
      // Channels are laid out per port: the request's ports, else ?ports= as kubelet's own server takes them.
      ports =
        request.req.port.length > 0
          ? request.req.port
          : url.searchParams
              .getAll('ports')
              .flatMap((v) => v.split(','))
              .map((p) => parsePort(p) ?? NaN);
      if (ports.length === 0 || ports.some((p) => Number.isNaN(p))) {
        return this.refuse(socket, { status: 400, body: 'port-forward over WebSocket needs ports: in the request or as ?ports=N[,M]\n' });
      }
    }

    socket.write(n.response);
    // The 'upgrade' socket is the TCP connection itself: interactive, and cut after kubelet's idle time.
    (socket as Socket).setNoDelay(true);
    (socket as Socket).setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    const log = (e: string): void => logDebug(`streaming: ${request.kind} (${n.protocol || 'no subprotocol'}): ${e}`);

    if (websocket) {
      const ws = new WebSocketConnection(socket);
      ws.on('protocol-error', log);
      if (request.kind === 'portforward') {
        if (n.protocol === WEBSOCKET_TUNNEL_PROTOCOL) {
          const conn = new SpdyConnection(new WebSocketTunnel(ws));
          conn.on('protocol-error', log);
          serveSpdyPortForward(conn, this.runtime, request.req.pod_sandbox_id, request.req.port);
        } else {
          serveWebSocketPortForward(ws, n.protocol, this.runtime, request.req.pod_sandbox_id, ports);
        }
      } else {
        const streams = websocketCommandStreams(ws, n.protocol, commandOptions(request));
        runCommand(this.runtime, commandTarget(request), request.req.tty, streams).catch((e: Error) => log(`internal error: ${e.stack}`));
      }
      ws.feed(head);
      return;
    }

    const conn = new SpdyConnection(socket);
    conn.on('protocol-error', log);
    if (request.kind === 'portforward') {
      serveSpdyPortForward(conn, this.runtime, request.req.pod_sandbox_id, request.req.port);
    } else {
      acceptSpdyCommandStreams(conn, n.protocol, commandOptions(request), (streams) => {
        runCommand(this.runtime, commandTarget(request), request.req.tty, streams).catch((e: Error) => log(`internal error: ${e.stack}`));
      });
    }
    conn.feed(head);
  }

  private refuse(socket: Duplex, reply: HttpReply): void {
    socket.end(rawReply(reply));
  }
}

function commandOptions(request: CachedRequest & { kind: 'exec' | 'attach' }): CommandOptions {
  const { stdin, stdout, stderr, tty } = request.req;
  return { stdin, stdout, stderr, tty };
}

function commandTarget(request: CachedRequest & { kind: 'exec' | 'attach' }): CommandTarget {
  return request.kind === 'exec'
    ? { kind: 'exec', containerId: request.req.container_id, cmd: request.req.cmd }
    : { kind: 'attach', containerId: request.req.container_id };
}
