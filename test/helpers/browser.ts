// A real browser for the pictures' tests: Debian's chromium, headless, driven over the DevTools
// protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), so a test
// sees what a reader would: the rendered page as a PNG, the DOM after the page's script ran,
// and every console error or uncaught exception.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface PageReport {
  /** problems the page caused: console errors, uncaught exceptions, failed loads */
  errors: string[];
  /** the rendered page, whole (PNG bytes) */
  png: Buffer;
  /** document.documentElement.outerHTML after load */
  dom: string;
}

export class Browser {
  private readonly proc: ChildProcess;
  private readonly profile: string;
  private seq = 0;
  private buf = '';
  private readonly waiting = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];

  private constructor() {
    if (!CHROMIUM) throw new Error('chromium is not installed: run scripts/install.sh');
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-chromium-'));
    this.proc = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-extensions',
        '--remote-debugging-pipe',
        `--user-data-dir=${this.profile}`,
        'about:blank',
      ],
      {
        stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
      },
    );
    const out = this.proc.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (d: string) => {
      this.buf += d;
      let nul: number;
      while ((nul = this.buf.indexOf('\0')) >= 0) {
        const m = JSON.parse(this.buf.slice(0, nul)) as Message;
        this.buf = this.buf.slice(nul + 1);
        if (m.id !== undefined && this.waiting.has(m.id)) {
          const w = this.waiting.get(m.id)!;
          this.waiting.delete(m.id);
          if (m.error) w.reject(new Error(m.error.message));
          else w.resolve(m);
        } else for (const l of this.listeners) l(m);
      }
    });
    this.proc.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error('chromium exited'));
      this.waiting.clear();
    });
  }

  static async launch(): Promise<Browser> {
    const b = new Browser();
    await b.send('Browser.getVersion');
    return b;
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.seq;
    const msg = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: (m) => resolve(m.result ?? {}), reject });
      (this.proc.stdio[3] as Writable).write(msg + '\0');
    });
  }

  private next(pred: (m: Message) => boolean, ms: number, what: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium: no ${what} in ${ms} ms`)), ms);
      const l = (m: Message): void => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.listeners.splice(this.listeners.indexOf(l), 1);
        resolve(m);
      };
      this.listeners.push(l);
    });
  }

  /**
   * Opens `file` in a new tab `width` px wide, waits for its load event, runs `script` (an
   * expression) in it if given, and reports what a reader would see.
   */
  async open(file: string, opts: { width?: number; script?: string } = {}): Promise<PageReport & { scriptResult?: unknown }> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const errors: string[] = [];
    const listen = (m: Message): void => {
      if (m.sessionId !== sessionId) return;
      const p = m.params ?? {};
      if (m.method === 'Runtime.exceptionThrown')
        errors.push(
          `exception: ${JSON.stringify((p['exceptionDetails'] as { text?: string; exception?: { description?: string } })?.exception?.description ?? p['exceptionDetails'])}`,
        );
      if (m.method === 'Runtime.consoleAPICalled' && (p['type'] === 'error' || p['type'] === 'assert'))
        errors.push(`console.${String(p['type'])}: ${JSON.stringify(p['args'])}`);
      if (m.method === 'Log.entryAdded' && (p['entry'] as { level?: string })?.level === 'error') errors.push(`log: ${JSON.stringify(p['entry'])}`);
    };
    this.listeners.push(listen);
    try {
      const s = (method: string, params: object = {}): Promise<Record<string, unknown>> => this.send(method, params, sessionId);
      await s('Page.enable');
      await s('Runtime.enable');
      await s('Log.enable');
      await s('Emulation.setDeviceMetricsOverride', { width: opts.width ?? 1024, height: 800, deviceScaleFactor: 1, mobile: false });
      const loaded = this.next((m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired', 30_000, 'load event');
      const nav = (await s('Page.navigate', { url: `file://${path.resolve(file)}` })) as { errorText?: string };
      if (nav.errorText) errors.push(`navigate: ${nav.errorText}`);
      await loaded;
      let scriptResult: unknown;
      if (opts.script) {
        const r = (await s('Runtime.evaluate', { expression: opts.script, returnByValue: true })) as {
          result?: { value?: unknown };
          exceptionDetails?: unknown;
        };
        if (r.exceptionDetails) errors.push(`script: ${JSON.stringify(r.exceptionDetails)}`);
        scriptResult = r.result?.value;
      }
      const { cssContentSize: size } = (await s('Page.getLayoutMetrics')) as { cssContentSize: { width: number; height: number } };
      const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
      const shot = (await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip })) as { data: string };
      const dom = (await s('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true })) as { result: { value: string } };
      // Messages already sent by the page are delivered before the replies above.
      return { errors: [...errors], png: Buffer.from(shot.data, 'base64'), dom: dom.result.value, scriptResult };
    } finally {
      this.listeners.splice(this.listeners.indexOf(listen), 1);
      await this.send('Target.closeTarget', { targetId }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined);
    if (this.proc.exitCode === null) await new Promise((r) => this.proc.once('exit', r));
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk (and a check that it is a PNG at all). */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || png.subarray(12, 16).toString('latin1') !== 'IHDR')
    throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
