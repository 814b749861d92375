// The HTTP half of the streaming protocols: which upgrade a request asks for, the subprotocol both
// sides speak, and the responses (kubelet's httpstream.Handshake + spdy.UpgradeResponse, and
// golang.org/x/net/websocket's handshake as wsstream uses it), written straight onto the socket.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { acceptKey } from './websocket-frames';

export interface HttpReply {
  status: number;
  headers?: [string, string][];
  body?: string;
}

export type Negotiated = { ok: true; protocol: string; response: string } | { ok: false; reply: HttpReply };

function values(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function hasToken(req: IncomingMessage, name: string, token: string): boolean {
  return values(req, name).some((v) => v.toLowerCase().includes(token));
}

/** wsstream.IsWebSocketRequest */
export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && hasToken(req, 'connection', 'upgrade');
}

function goError(status: number, message: string, headers: [string, string][] = []): HttpReply {
  // net/http's http.Error
  return { status, headers: [['Content-Type', 'text/plain; charset=utf-8'], ['X-Content-Type-Options', 'nosniff'], ...headers], body: message + '\n' };
}

export function notFound(): HttpReply {
  return goError(404, '404 page not found');
}

export function methodNotAllowed(): HttpReply {
  return goError(405, 'Method Not Allowed');
}

function head(status: number, headers: [string, string][]): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` + headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

/** A whole non-101 response for a socket taken over from the HTTP server. */
export function rawReply(reply: HttpReply): string {
  const body = reply.body ?? '';
  return head(reply.status, [...(reply.headers ?? []), ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close']]) + body;
}

/** SPDY/3.1 upgrade with X-Stream-Protocol-Version negotiation (the client's order wins). */
export function negotiateSpdy(req: IncomingMessage, serverProtocols: string[]): Negotiated {
  const client = values(req, 'x-stream-protocol-version');
  if (client.length === 0) return { ok: false, reply: goError(400, 'unable to upgrade: X-Stream-Protocol-Version is required') };
  const protocol = client.find((p) => serverProtocols.includes(p));
  if (protocol === undefined) {
    return {
      ok: false,
      reply: goError(
        403,
        `unable to upgrade: unable to negotiate protocol: client supports [${client.join(' ')}], server accepts [${serverProtocols.join(' ')}]`,
        serverProtocols.map((p) => ['X-Accepted-Stream-Protocol-Versions', p]),
      ),
    };
  }
  if (!hasToken(req, 'connection', 'upgrade') || !hasToken(req, 'upgrade', 'spdy/3.1')) {
    return { ok: false, reply: goError(400, 'unable to upgrade: missing upgrade headers in request (need Connection: Upgrade and Upgrade: SPDY/3.1)') };
  }
  return {
    ok: true,
    protocol,
    response: head(101, [
      ['Connection', 'Upgrade'],
      ['Upgrade', 'SPDY/3.1'],
      ['X-Stream-Protocol-Version', protocol],
      ['Date', new Date().toUTCString()],
    ]),
  };
}

/**
 * RFC 6455 opening handshake. Subprotocol: the first the client lists that the server allows; a
 * client that lists none gets '' if the server allows that (kubelet's wsstream does).
 */
export function negotiateWebSocket(req: IncomingMessage, serverProtocols: string[]): Negotiated {
  if (req.method !== 'GET') return { ok: false, reply: goError(405, 'websocket: bad request method (must be GET)') };
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    return { ok: false, reply: goError(400, 'websocket: missing or malformed Sec-WebSocket-Key') };
  }
  if ((req.headers['sec-websocket-version'] ?? '').trim() !== '13') {
    return { ok: false, reply: goError(400, 'websocket: unsupported Sec-WebSocket-Version (need 13)', [['Sec-WebSocket-Version', '13']]) };
  }
  const client = values(req, 'sec-websocket-protocol');
  const protocol = (client.length > 0 ? client : ['']).find((p) => serverProtocols.includes(p));
  if (protocol === undefined) {
    return {
      ok: false,
      reply: goError(403, `requested protocol(s) are not supported: [${client.join(' ')}]; supports [${serverProtocols.filter((p) => p !== '').join(' ')}]`),
    };
  }
  const headers: [string, string][] = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', acceptKey(key)],
  ];
  if (protocol !== '') headers.push(['Sec-WebSocket-Protocol', protocol]);
  return { ok: true, protocol, response: head(101, headers) };
}
