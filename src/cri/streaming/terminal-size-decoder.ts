// The resize stream: client-go's json.Encoder writes one {"Width":w,"Height":h} per terminal size,
// back to back, split wherever the transport splits. kubelet reads it with json.Decoder into a struct,
// so names match case-insensitively, and the first value that is not such an object ends the stream.
import { EventEmitter } from 'node:events';
import type { TerminalSize } from './types';

export class TerminalSizeDecoder {
  private pending = '';
  private broken = false;

  push(chunk: Buffer): TerminalSize[] {
    if (this.broken) return [];
    this.pending += chunk.toString('utf8');
    const sizes: TerminalSize[] = [];
    for (;;) {
      const start = this.pending.search(/\S/);
      if (start < 0) {
        this.pending = '';
        break;
      }
      if (this.pending[start] !== '{') {
        this.broken = true;
        break;
      }
      const end = objectEnd(this.pending, start);
      if (end < 0) break; // incomplete: wait for more
      const text = this.pending.slice(start, end);
      this.pending = this.pending.slice(end);
      const size = parseSize(text);
      if (!size) {
        this.broken = true;
        break;
      }
      sizes.push(size);
    }
    return sizes;
  }
}

/** Index just past the object that starts at start, or -1 if it is not complete yet. */
function objectEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseSize(text: string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  let width = 0;
  let height = 0;
  for (const [k, v] of Object.entries(value)) {
    const key = k.toLowerCase();
    if (key !== 'width' && key !== 'height') continue;
    // uint16 fields: anything else fails json.Decoder's Decode.
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) return undefined;
    if (key === 'width') width = v;
    else height = v;
  }
  return { width, height };
}

/**
 * The 'resize' events of one session. The client sends its terminal's size as soon as the streams
 * are up, usually before the runtime has the terminal to apply it to (the exec's pty, the
 * monitor's attach): a 'resize' listener added later is called with the latest size at once, as
 * kubelet's buffered resize channel hands it over, so the terminal starts at the client's size.
 */
export class TerminalResizes extends EventEmitter {
  private latest: TerminalSize | undefined;

  constructor() {
    super();
    this.on('newListener', (event: string | symbol, listener: (s: TerminalSize) => void) => {
      const size = this.latest;
      if (event === 'resize' && size) process.nextTick(() => listener(size));
    });
  }

  push(size: TerminalSize): void {
    this.latest = size;
    this.emit('resize', size);
  }
}
