// SPDY/3 header blocks: a name/value block compressed with zlib, primed with the SPDY/3 dictionary,
// as ONE zlib stream per direction that every SYN_STREAM, SYN_REPLY and HEADERS frame continues,
// flushed (Z_SYNC_FLUSH) at the end of each frame.
//
// Node has no synchronous streaming zlib, and an async one would let a later DATA frame overtake the
// SYN_STREAM that opens its stream. A sync flush ends each frame on a block boundary, so a frame is a
// complete raw-deflate segment whose back references reach at most 32 KiB into what came before:
// (in|de)flating it alone with "dictionary + everything so far" (its last 32 KiB) as the preset
// dictionary is exactly what a continuous zlib stream does, and stays synchronous.
import * as zlib from 'node:zlib';

/** Lower-case header name -> values (SPDY joins several values of one name with NUL). */
export type SpdyHeaders = Record<string, string[]>;

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

// The dictionary from the SPDY/3 specification (section 2.6.10.1): length-prefixed words, then a
// tail. The words are listed space-separated below; '200 OK' is the one word with a space (~).
const DICTIONARY_WORDS = (
  'options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges ' +
  'age allow authorization cache-control connection content-base content-encoding content-language ' +
  'content-length content-location content-md5 content-range content-type date etag expect expires from ' +
  'host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location ' +
  'max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer ' +
  'transfer-encoding upgrade user-agent vary via warning www-authenticate method get status 200~OK version ' +
  'HTTP/1.1 url public set-cookie keep-alive origin'
)
  .split(' ')
  .map((w) => w.replace('~', ' '));
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const b = Buffer.alloc(4 + w.length);
    b.writeUInt32BE(w.length, 0);
    b.write(w, 4, 'latin1');
    return b;
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

const WINDOW = 32 * 1024;
// Header blocks here are a few dozen bytes; the cap only stops a decompression bomb.
const MAX_HEADER_BLOCK = 256 * 1024;

export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length;) {
    // 3800 bytes keep the sums below 2^31 between reductions (zlib's NMAX is 5552 for unsigned).
    const end = Math.min(i + 3800, data.length);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const names = Object.keys(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(names.length, 0);
  parts.push(count);
  for (const name of names) {
    const lower = name.toLowerCase();
    const n = Buffer.from(lower, 'utf8');
    const v = Buffer.from(headers[name]!.join('\0'), 'utf8');
    const nl = Buffer.alloc(4);
    nl.writeUInt32BE(n.length, 0);
    const vl = Buffer.alloc(4);
    vl.writeUInt32BE(v.length, 0);
    parts.push(nl, n, vl, v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let off = 0;
  const u32 = (what: string): number => {
    if (off + 4 > block.length) throw new SpdyProtocolError(`header block truncated reading ${what}`);
    const v = block.readUInt32BE(off);
    off += 4;
    return v;
  };
  const bytes = (n: number, what: string): string => {
    if (off + n > block.length) throw new SpdyProtocolError(`header block truncated reading ${what}`);
    const s = block.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  const headers: SpdyHeaders = Object.create(null);
  const count = u32('the header count');
  for (let i = 0; i < count; i++) {
    const name = bytes(u32('a name length'), 'a name');
    if (name.length === 0) throw new SpdyProtocolError('header block has an empty header name');
    if (name !== name.toLowerCase()) throw new SpdyProtocolError(`header name ${JSON.stringify(name)} is not lower-case`);
    if (headers[name]) throw new SpdyProtocolError(`header ${JSON.stringify(name)} appears twice`);
    headers[name] = bytes(u32('a value length'), 'a value').split('\0');
  }
  if (off !== block.length) throw new SpdyProtocolError(`header block has ${block.length - off} bytes after its ${count} headers`);
  return headers;
}

function remember(history: Buffer, plain: Buffer): Buffer {
  const joined = Buffer.concat([history, plain]);
  return joined.length > WINDOW ? joined.subarray(joined.length - WINDOW) : joined;
}

// zlib header announcing a preset dictionary (FDICT) and the best-compression level, then its Adler-32.
function zlibHeaderWithDictionary(): Buffer {
  const cmf = 0x78; // deflate, 32 KiB window
  let flg = 0xc0 | 0x20; // FLEVEL=3, FDICT
  flg += 31 - ((cmf * 256 + flg) % 31);
  const h = Buffer.alloc(6);
  h[0] = cmf;
  h[1] = flg;
  h.writeUInt32BE(adler32(SPDY_DICTIONARY), 2);
  return h;
}

/** One direction's compression context: compress() every outgoing header block in order. */
export class SpdyHeaderCompressor {
  private history: Buffer = SPDY_DICTIONARY;
  private started = false;

  compress(headers: SpdyHeaders): Buffer {
    const plain = encodeHeaderBlock(headers);
    const body = zlib.deflateRawSync(plain, { dictionary: this.history, finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
    this.history = remember(this.history, plain);
    if (this.started) return body;
    this.started = true;
    return Buffer.concat([zlibHeaderWithDictionary(), body]);
  }
}

/** One direction's decompression context: decompress() every incoming header block in order. */
export class SpdyHeaderDecompressor {
  private history: Buffer = SPDY_DICTIONARY;
  private started = false;

  decompress(compressed: Buffer): SpdyHeaders {
    let data = compressed;
    if (!this.started) {
      if (data.length < 2) throw new SpdyProtocolError('first header block is too short for a zlib header');
      const cmf = data[0]!;
      const flg = data[1]!;
      if ((cmf & 0x0f) !== 8 || (cmf * 256 + flg) % 31 !== 0) throw new SpdyProtocolError('first header block does not start with a zlib header');
      if (flg & 0x20) {
        if (data.length < 6) throw new SpdyProtocolError('first header block is too short for its dictionary id');
        const id = data.readUInt32BE(2);
        if (id !== adler32(SPDY_DICTIONARY)) throw new SpdyProtocolError(`header compression uses dictionary ${id.toString(16)}, not the SPDY/3 dictionary`);
        data = data.subarray(6);
      } else {
        this.history = Buffer.alloc(0);
        data = data.subarray(2);
      }
      this.started = true;
    }
    let plain: Buffer;
    try {
      plain = zlib.inflateRawSync(data, {
        ...(this.history.length > 0 ? { dictionary: this.history } : {}),
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_HEADER_BLOCK,
      });
    } catch (e) {
      throw new SpdyProtocolError(`header block does not decompress: ${(e as Error).message}`);
    }
    this.history = remember(this.history, plain);
    return decodeHeaderBlock(plain);
  }
}
