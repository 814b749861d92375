// The streaming server's wire formats without Go: WebSocket and SPDY framing corners (fragments,
// masking, control frames between fragments, header compression continued across frames by an
// independent zlib stream), the HTTP handshakes' refusals, tokens and request validation.
import test from 'ava';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { PassThrough, Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { TsrunError } from '../../src/common/errors';
import { StreamingServer } from '../../src/cri/streaming/server';
import {
  encodeData,
  encodePing,
  encodeSettings,
  encodeSynStream,
  encodeWindowUpdate,
  SpdyFrameParser,
  type SpdyFrame,
} from '../../src/cri/streaming/spdy-frames';
import {
  adler32,
  decodeHeaderBlock,
  encodeHeaderBlock,
  SPDY_DICTIONARY,
  SpdyHeaderCompressor,
  SpdyHeaderDecompressor,
  type SpdyHeaders,
} from '../../src/cri/streaming/spdy-headers';
import { TerminalSizeDecoder } from '../../src/cri/streaming/terminal-size-decoder';
import { TOKEN_TTL_MS, TokenCache, MAX_IN_FLIGHT } from '../../src/cri/streaming/token-cache';
import type { StreamIO, StreamingRuntime } from '../../src/cri/streaming/types';
import { WebSocketConnection } from '../../src/cri/streaming/websocket-connection';
import { acceptKey, encodeFrame, Opcode, WebSocketFrameParser, type WebSocketFrame } from '../../src/cri/streaming/websocket-frames';

// ---------- WebSocket framing ----------

test('RFC 6455 examples: accept key, a masked "Hello", an unmasked one in two fragments', (t) => {
  t.is(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  const server = new WebSocketFrameParser(true, 1 << 20);
  t.deepEqual(server.push(Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])), [
    { fin: true, opcode: Opcode.Text, payload: Buffer.from('Hello') },
  ]);
  const client = new WebSocketFrameParser(false, 1 << 20);
  t.deepEqual(client.push(Buffer.from([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f])), [
    { fin: false, opcode: Opcode.Text, payload: Buffer.from('Hel') },
    { fin: true, opcode: Opcode.Continuation, payload: Buffer.from('lo') },
  ]);
});

test('WebSocket frames of every length form survive masking and arrive split at every byte', (t) => {
  const mask = Buffer.from([0xa1, 0x02, 0xf3, 0x44]);
  for (const size of [0, 125, 126, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(size, 0);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
    const wire = encodeFrame(Opcode.Binary, payload, { mask });
    t.is(wire.length, payload.length + (size < 126 ? 6 : size < 65536 ? 8 : 14));
    if (size > 0) t.notDeepEqual(wire.subarray(wire.length - size), payload, 'masked on the wire');
    const parser = new WebSocketFrameParser(true, 1 << 20);
    const frames: WebSocketFrame[] = [];
    const step = size < 200 ? 1 : 997; // byte by byte for the small ones
    for (let off = 0; off < wire.length; off += step) frames.push(...parser.push(wire.subarray(off, off + step)));
    t.is(frames.length, 1);
    t.true(frames[0]!.payload.equals(payload), `size ${size}`);
  }
});

/** Two Duplexes joined back to back, like a socket pair. */
function socketPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  return [a, b];
}

test('a fragmented, masked message with a ping between its fragments: one message, one pong', async (t) => {
  const [serverSide, clientSide] = socketPair();
  const ws = new WebSocketConnection(serverSide);
  const messages: [string, boolean][] = [];
  ws.on('message', (data: Buffer, binary: boolean) => messages.push([data.toString(), binary]));
  const fromServer = new WebSocketFrameParser(false, 1 << 20);
  const replies: WebSocketFrame[] = [];
  clientSide.on('data', (c: Buffer) => replies.push(...fromServer.push(c)));

  const mask = (): Buffer => Buffer.from([Math.random() * 256, Math.random() * 256, 1, 2]);
  const wire = Buffer.concat([
    encodeFrame(Opcode.Text, Buffer.from('frag'), { fin: false, mask: mask() }),
    encodeFrame(Opcode.Ping, Buffer.from('are you there'), { mask: mask() }),
    encodeFrame(Opcode.Continuation, Buffer.from('mented '), { fin: false, mask: mask() }),
    encodeFrame(Opcode.Continuation, Buffer.from('text ✓'), { fin: true, mask: mask() }),
    encodeFrame(Opcode.Binary, Buffer.from([0, 1, 2]), { mask: mask() }),
  ]);
  for (let i = 0; i < wire.length; i++) clientSide.write(wire.subarray(i, i + 1));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  t.deepEqual(messages, [
    ['fragmented text ✓', false],
    ['\x00\x01\x02', true],
  ]);
  t.deepEqual(replies, [{ fin: true, opcode: Opcode.Pong, payload: Buffer.from('are you there') }]);
});

for (const [what, wire, code] of [
  ['an unmasked client frame', encodeFrame(Opcode.Binary, Buffer.from('x')), 1002],
  ['a continuation with nothing to continue', encodeFrame(Opcode.Continuation, Buffer.from('x'), { mask: Buffer.alloc(4, 9) }), 1002],
  ['a fragmented ping', encodeFrame(Opcode.Ping, Buffer.from('x'), { fin: false, mask: Buffer.alloc(4, 9) }), 1002],
  ['text that is not UTF-8', encodeFrame(Opcode.Text, Buffer.from([0xff, 0xfe]), { mask: Buffer.alloc(4, 9) }), 1007],
] as const) {
  test(`WebSocket: ${what} closes the connection with ${code}`, async (t) => {
    const [serverSide, clientSide] = socketPair();
    const ws = new WebSocketConnection(serverSide);
    let delivered = 0;
    ws.on('message', () => delivered++);
    const parser = new WebSocketFrameParser(false, 1 << 20);
    const frames: WebSocketFrame[] = [];
    clientSide.on('data', (c: Buffer) => frames.push(...parser.push(c)));
    clientSide.write(wire);
    await once(ws, 'close');
    await new Promise((r) => setImmediate(r));
    t.is(delivered, 0);
    t.is(frames[0]?.opcode, Opcode.Close);
    t.is(frames[0]?.payload.readUInt16BE(0), code);
  });
}

// ---------- SPDY framing and header compression ----------

/** One zlib stream, flushed per frame: what Go's compress/zlib does for SPDY (and Chrome did). */
function zlibStream(z: zlib.Deflate | zlib.Inflate): (input: Buffer) => Promise<Buffer> {
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  return (input) =>
    new Promise((resolve) => {
      z.write(input);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(out.splice(0))));
    });
}

const blocks: SpdyHeaders[] = [
  { streamtype: ['error'] },
  { streamtype: ['stdin'] },
  { streamtype: ['stdout'], 'x-many': ['a', 'b', 'c'] },
  { streamtype: ['stdout'], 'x-many': ['a', 'b', 'c'] },
  {},
  { port: ['8080'], requestid: ['0'], streamtype: ['data'], 'x-long': ['y'.repeat(40_000)] },
  { port: ['8080'], requestid: ['1'], streamtype: ['data'] },
];

test('SPDY header blocks compressed as one zlib stream by Node zlib decode frame by frame', async (t) => {
  t.is(adler32(SPDY_DICTIONARY), 0xe3c6a7c2, 'the SPDY/3 dictionary id');
  const deflate = zlibStream(zlib.createDeflate({ dictionary: SPDY_DICTIONARY, level: 9 }));
  const decoder = new SpdyHeaderDecompressor();
  for (const [i, headers] of blocks.entries()) {
    const plain = encodeHeaderBlock(headers);
    const wire = await deflate(plain);
    if (i === 3) t.true(wire.length < 12, `a repeated block is a back reference (${wire.length} bytes)`);
    t.deepEqual({ ...decoder.decompress(wire) }, headers, `block ${i}`);
  }
});

test("SPDY header blocks from tsrun's compressor decode with Node's streaming inflate", async (t) => {
  const inflate = zlibStream(zlib.createInflate({ dictionary: SPDY_DICTIONARY }));
  const encoder = new SpdyHeaderCompressor();
  for (const [i, headers] of blocks.entries()) {
    const wire = encoder.compress(headers);
    if (i === 0) t.deepEqual([...wire.subarray(0, 6)], [0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2], 'zlib header naming the SPDY dictionary');
    if (i === 3) t.true(wire.length < 12, `a repeated block is a back reference (${wire.length} bytes)`);
    t.deepEqual({ ...decodeHeaderBlock(await inflate(wire)) }, headers, `block ${i}`);
  }
});

test('SPDY frames split anywhere and merged in one read parse the same', (t) => {
  const wire = Buffer.concat([encodeSynStream(1, Buffer.from('abc')), encodeData(1, Buffer.from('hello'), true), encodePing(7)]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const parser = new SpdyFrameParser();
    const frames = [...parser.push(wire.subarray(0, cut)), ...parser.push(wire.subarray(cut))];
    t.deepEqual(
      frames.map((f) => f.type),
      ['syn_stream', 'data', 'ping'],
    );
    t.like(frames[1], { streamId: 1, fin: true, data: Buffer.from('hello') });
  }
});

// ---------- a server with a small runtime ----------

const runtime: StreamingRuntime = {
  async exec(_id: string, cmd: string[], io: StreamIO) {
    if (cmd[0] === 'cat') {
      for await (const chunk of io.stdin!) io.stdout!.write(chunk);
      return { exitCode: 0 };
    }
    io.stdout?.write(cmd.slice(1).join(' ') + '\n');
    return { exitCode: cmd[0] === 'exit' ? Number(cmd[1]) : 0 };
  },
  async attach() {},
  async portForward(_pod, port, stream) {
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    stream.pipe(sock);
    sock.pipe(stream);
    stream.on('close', () => sock.destroy());
    await once(sock, 'close');
  },
};
const server = new StreamingServer(runtime);
let echo: net.Server;
let echoPort = 0;

test.before(async () => {
  await server.start();
  echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as net.AddressInfo).port;
});

test.after.always(async () => {
  await server.close();
  echo?.close();
});

const execUrl = (cmd: string[], o: Partial<{ stdin: boolean; stdout: boolean; tty: boolean }> = {}): string =>
  server.getExec({ container_id: 'c', cmd, tty: o.tty ?? false, stdin: o.stdin ?? false, stdout: o.stdout ?? true, stderr: false });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket?: net.Socket;
  head?: Buffer;
}

function request(url: string, method: string, headers: Record<string, string | string[]>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false });
    req.on('error', reject);
    req.on('upgrade', (res, socket, head) => resolve({ status: res.statusCode!, headers: res.headers, body: '', socket, head }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.end();
  });
}

const wsHeaders = (protocols: string[]): Record<string, string> => ({
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  ...(protocols.length > 0 ? { 'Sec-WebSocket-Protocol': protocols.join(', ') } : {}),
});

test('unknown, reused and mistyped tokens are 404; a plain request consumes its token with 400', async (t) => {
  const nothing = await request(`${server.baseUrl}/exec/AAAAAAAA`, 'POST', {});
  t.is(nothing.status, 404);
  t.is(nothing.body, '404 page not found\n');
  t.is((await request(`${server.baseUrl}/nowhere`, 'GET', {})).status, 404);

  const url = execUrl(['echo', 'x']);
  t.is((await request(url.replace('/exec/', '/attach/'), 'GET', {})).status, 404, 'an exec token is no attach token');
  t.is((await request(url, 'GET', {})).status, 404, 'the mistyped attempt used it up');

  const plain = execUrl(['echo', 'x']);
  t.is((await request(plain, 'PUT', {})).status, 405, 'PUT is refused before the token is looked at');
  const first = await request(plain, 'GET', { 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
  t.is(first.status, 400);
  t.regex(first.body, /missing upgrade headers/);
  t.is((await request(plain, 'GET', {})).status, 404);
});

test('SPDY handshake refusals: no protocol version 400; none in common 403 listing the accepted ones', async (t) => {
  const spdy = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' };
  const none = await request(execUrl(['echo']), 'POST', spdy);
  t.is(none.status, 400);
  t.is(none.body, 'unable to upgrade: X-Stream-Protocol-Version is required\n');
  const other = await request(execUrl(['echo']), 'POST', { ...spdy, 'X-Stream-Protocol-Version': ['v9.channel.k8s.io', 'portforward.k8s.io'] });
  t.is(other.status, 403);
  t.is(other.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io');
  const pf = await request(server.getPortForward({ pod_sandbox_id: 'p', port: [] }), 'POST', { ...spdy, 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
  t.is(pf.status, 403);
  t.is(pf.headers['x-accepted-stream-protocol-versions'], 'portforward.k8s.io');
});

test('WebSocket handshake refusals: POST 405, version 8 400, unknown subprotocol 403', async (t) => {
  t.is((await request(execUrl(['echo']), 'POST', wsHeaders(['v5.channel.k8s.io']))).status, 405);
  const v8 = await request(execUrl(['echo']), 'GET', { ...wsHeaders([]), 'Sec-WebSocket-Version': '8' });
  t.is(v8.status, 400);
  t.is(v8.headers['sec-websocket-version'], '13');
  t.is((await request(execUrl(['echo']), 'GET', wsHeaders(['v6.channel.k8s.io']))).status, 403);
});

/** Waits for a frame, failing (not hanging) if the server never sends it. */
async function waitFrame<F>(queue: F[], setWake: (w: () => void) => void, what: string): Promise<F> {
  const deadline = Date.now() + 20_000;
  while (queue.length === 0) {
    if (Date.now() > deadline) throw new Error(`no ${what} frame from the server within 20 s`);
    await new Promise<void>((r) => {
      setWake(r);
      setTimeout(r, 1000).unref();
    });
  }
  return queue.shift()!;
}

/** A minimal WebSocket client: masks what it sends, queues what it receives. */
async function wsOpen(
  url: string,
  protocols: string[],
): Promise<{ protocol: string; send(opcode: number, data: Buffer, fin?: boolean): void; raw(b: Buffer): void; next(): Promise<WebSocketFrame> }> {
  const a = await request(url, 'GET', wsHeaders(protocols));
  if (a.status !== 101 || !a.socket) throw new Error(`handshake answered ${a.status} ${a.body}`);
  if (a.headers['sec-websocket-accept'] !== 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=') throw new Error('bad Sec-WebSocket-Accept');
  const socket = a.socket;
  const parser = new WebSocketFrameParser(false, 1 << 26);
  const queue: WebSocketFrame[] = [];
  let wake: (() => void) | undefined;
  const take = (b: Buffer): void => {
    queue.push(...parser.push(b));
    wake?.();
  };
  take(a.head ?? Buffer.alloc(0));
  socket.on('data', take);
  return {
    protocol: String(a.headers['sec-websocket-protocol'] ?? ''),
    send: (opcode, data, fin = true) => socket.write(encodeFrame(opcode, data, { fin, mask: Buffer.from([1, 2, 3, 4]) })),
    raw: (b) => socket.write(b),
    next: () => waitFrame(queue, (w) => (wake = w), 'WebSocket'),
  };
}

test('WebSocket v5 exec: fragmented masked stdin written a byte at a time, a ping in between, the close signal ends stdin', async (t) => {
  const ws = await wsOpen(execUrl(['cat'], { stdin: true }), ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
  t.is(ws.protocol, 'v5.channel.k8s.io');
  t.deepEqual(await ws.next(), { fin: true, opcode: Opcode.Binary, payload: Buffer.from([1]) }, 'the empty "connected" message on stdout');
  const wire = Buffer.concat([
    encodeFrame(Opcode.Binary, Buffer.from('\x00hel'), { fin: false, mask: Buffer.from([9, 8, 7, 6]) }),
    encodeFrame(Opcode.Ping, Buffer.from('p'), { mask: Buffer.from([1, 1, 1, 1]) }),
    encodeFrame(Opcode.Continuation, Buffer.from('lo\n'), { fin: true, mask: Buffer.from([5, 5, 5, 5]) }),
  ]);
  for (let i = 0; i < wire.length; i++) ws.raw(wire.subarray(i, i + 1));
  t.deepEqual(await ws.next(), { fin: true, opcode: Opcode.Pong, payload: Buffer.from('p') });
  t.deepEqual((await ws.next()).payload, Buffer.from('\x01hello\n'));
  ws.send(Opcode.Binary, Buffer.from([255, 0]));
  const status = await ws.next();
  t.is(status.payload[0], 3);
  t.deepEqual(JSON.parse(status.payload.subarray(1).toString()), { metadata: {}, status: 'Success' });
  const close = await ws.next();
  t.is(close.opcode, Opcode.Close);
  t.is(close.payload.readUInt16BE(0), 1000);
});

test('WebSocket base64 protocols: text messages, channel digits; v4 sends the exit code as a Status', async (t) => {
  const ws = await wsOpen(execUrl(['exit', '3']), ['v4.base64.channel.k8s.io']);
  t.is(ws.protocol, 'v4.base64.channel.k8s.io');
  t.deepEqual(await ws.next(), { fin: true, opcode: Opcode.Text, payload: Buffer.from('1') });
  const out = await ws.next();
  t.is(out.opcode, Opcode.Text);
  t.is(out.payload.toString(), '1' + Buffer.from('3\n').toString('base64'));
  const status = (await ws.next()).payload.toString();
  t.is(status[0], '3');
  t.deepEqual(JSON.parse(Buffer.from(status.slice(1), 'base64').toString()), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: exit status 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
  t.is((await ws.next()).opcode, Opcode.Close);

  // The pre-v4 protocol sends a failure's message as plain text and nothing on success.
  const old = await wsOpen(execUrl(['exit', '4']), ['base64.channel.k8s.io']);
  t.is(old.protocol, 'base64.channel.k8s.io');
  await old.next();
  await old.next();
  t.is(Buffer.from((await old.next()).payload.toString().slice(1), 'base64').toString(), 'command terminated with non-zero exit code: exit status 4');
});

test("WebSocket port-forward on kubelet's channels: port numbers first, then the echo", async (t) => {
  const ws = await wsOpen(server.getPortForward({ pod_sandbox_id: 'p', port: [echoPort] }), ['v4.channel.k8s.io']);
  const port = Buffer.alloc(2);
  port.writeUInt16LE(echoPort, 0);
  t.deepEqual((await ws.next()).payload, Buffer.concat([Buffer.from([0]), port]), 'data channel 0 opens with the port');
  t.deepEqual((await ws.next()).payload, Buffer.concat([Buffer.from([1]), port]), 'error channel 1 opens with the port');
  ws.send(Opcode.Binary, Buffer.from('\x00ping over channels'));
  let echoed = '';
  while (echoed.length < 'ping over channels'.length) {
    const f = await ws.next();
    t.is(f.payload[0], 0);
    echoed += f.payload.subarray(1).toString();
  }
  t.is(echoed, 'ping over channels');
  ws.send(Opcode.Close, Buffer.from([0x03, 0xe8]));
  t.is((await ws.next()).opcode, Opcode.Close);
});

test('a SPDY client whose header compression is an independent zlib stream runs an exec', async (t) => {
  const a = await request(execUrl(['echo', 'via', 'node', 'zlib']), 'POST', {
    Connection: 'Upgrade',
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'],
  });
  t.is(a.status, 101);
  t.is(a.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  const socket = a.socket!;
  const deflate = zlibStream(zlib.createDeflate({ dictionary: SPDY_DICTIONARY, level: 9 }));
  const inflate = zlibStream(zlib.createInflate({ dictionary: SPDY_DICTIONARY }));
  const parser = new SpdyFrameParser();
  const frames: SpdyFrame[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (c: Buffer) => {
    frames.push(...parser.push(c));
    wake?.();
  });
  const next = (): Promise<SpdyFrame> => waitFrame(frames, (w) => (wake = w), 'SPDY');

  // Frames spdystream ignores are ignored here too: SETTINGS, WINDOW_UPDATE, an unknown control type.
  const unknownControl = Buffer.from([0x80, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb]);
  socket.write(Buffer.concat([encodeSettings([{ flags: 0, id: 7, value: 65536 }]), encodeWindowUpdate(1, 4096), unknownControl]));
  socket.write(encodeSynStream(1, await deflate(encodeHeaderBlock({ streamtype: ['error'] }))));
  socket.write(encodePing(1));
  socket.write(encodeSynStream(3, await deflate(encodeHeaderBlock({ streamtype: ['stdout'] }))));
  const seen: string[] = [];
  const data: Record<number, string> = { 1: '', 3: '' };
  for (;;) {
    const f = await next();
    if (f.type === 'syn_reply') {
      t.deepEqual({ ...decodeHeaderBlock(await inflate(f.headerBlock)) }, {});
      seen.push(`reply ${f.streamId}`);
    } else if (f.type === 'ping') seen.push(`ping ${f.id}`);
    else if (f.type === 'data') {
      data[f.streamId] += f.data.toString();
      if (f.fin) seen.push(`fin ${f.streamId}`);
    } else if (f.type === 'goaway') {
      seen.push('goaway');
      break;
    } else seen.push(f.type);
  }
  t.deepEqual(seen, ['reply 1', 'ping 1', 'reply 3', 'fin 3', 'fin 1', 'goaway']);
  t.is(data[3], 'via node zlib\n');
  t.deepEqual(JSON.parse(data[1]!), { metadata: {}, status: 'Success' });
  socket.destroy();
});

// ---------- tokens, validation, resize decoding ----------

test('tokens: 8 URL-safe characters, single use, gone after a minute, at most 1000 outstanding', (t) => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  const req = { kind: 'attach' as const, req: { container_id: 'c', tty: false, stdin: false, stdout: true, stderr: false } };
  const a = cache.insert(req);
  t.regex(a, /^[A-Za-z0-9_-]{8}$/);
  t.deepEqual(cache.consume(a), req);
  t.is(cache.consume(a), undefined);
  const b = cache.insert(req);
  now += TOKEN_TTL_MS + 1;
  t.is(cache.consume(b), undefined, 'expired');
  for (let i = 0; i < MAX_IN_FLIGHT; i++) cache.insert(req);
  t.throws(() => cache.insert(req), { instanceOf: TsrunError, message: /maximum number of in-flight requests exceeded/ });
  now += TOKEN_TTL_MS + 1;
  t.notThrows(() => cache.insert(req), 'expired entries make room');
  t.is(cache.size, 1);
});

test('requests kubelet refuses are refused with TSRUN_E_USAGE', (t) => {
  const base = { container_id: 'c', cmd: ['sh'], tty: false, stdin: false, stdout: true, stderr: false };
  const usage = (fn: () => unknown, message: RegExp): void => {
    const e = t.throws(fn, { instanceOf: TsrunError, message });
    t.is((e as TsrunError | undefined)?.code, 'TSRUN_E_USAGE');
  };
  usage(() => server.getExec({ ...base, tty: true, stderr: true }), /tty and stderr cannot both be true/);
  usage(() => server.getExec({ ...base, stdout: false }), /one of stdin, stdout, or stderr must be set/);
  usage(() => server.getAttach({ ...base, container_id: '' }), /missing required container_id/);
  usage(() => server.getPortForward({ pod_sandbox_id: '', port: [80] }), /missing required pod_sandbox_id/);
  usage(() => server.getPortForward({ pod_sandbox_id: 'p', port: [0] }), /port 0 is not in 1-65535/);
  t.regex(server.getExec({ ...base, tty: true }), /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{8}$/);
  t.throws(() => new StreamingServer(runtime).baseUrl, { instanceOf: TsrunError, message: /not started/ });
});

test('resize stream: sizes split anywhere, names in any case; junk ends it as json.Decoder does', (t) => {
  const d = new TerminalSizeDecoder();
  const wire = '{"Width":80,"Height":24}\n{"width":100,"HEIGHT":30}\n';
  const sizes = [];
  for (const ch of wire) sizes.push(...d.push(Buffer.from(ch)));
  t.deepEqual(sizes, [
    { width: 80, height: 24 },
    { width: 100, height: 30 },
  ]);
  t.deepEqual(d.push(Buffer.from('[1]{"Width":1,"Height":1}')), []);
  t.deepEqual(d.push(Buffer.from('{"Width":2,"Height":2}')), [], 'stays ended');
});
