// What `tsrun pull` shows while it pulls: on a terminal a bar per layer (bytes, rate, time
// left), as docker and podman show it, drawn by cli-progress (a maintained multi-bar library);
// otherwise one summary line when the pull is done. Both on stderr: stdout keeps the result.
import type { PullProgress } from '../image/pull';
import { bytes, rate } from './units';

export interface PullDisplay {
  progress(p: PullProgress): void;
  /** the pull ended (well or not): stop drawing, say what happened */
  end(ok: boolean, name?: string): void;
}

const short = (digest: string): string => digest.slice(7, 19);

interface Layer {
  size: number;
  received: number;
  started?: number;
  present: boolean;
  fetched: boolean;
  fetchedBytes: number;
  seconds: number;
}

function tally(layers: Map<string, Layer>): { fetched: number; present: number; bytes: number } {
  let fetched = 0;
  let present = 0;
  let got = 0;
  for (const l of layers.values()) {
    if (l.present) present++;
    else if (l.fetched) {
      fetched++;
      got += l.fetchedBytes;
    }
  }
  return { fetched, present, bytes: got };
}

/** One line at the end: how many layers, how many bytes, how fast. */
function summary(ref: string): PullDisplay {
  const layers = new Map<string, Layer>();
  const t0 = Date.now();
  return {
    progress(p) {
      track(layers, p);
    },
    end(ok, name) {
      if (ok) process.stderr.write(`${summaryLine(name ?? ref, layers, (Date.now() - t0) / 1000)}\n`);
    },
  };
}

function track(layers: Map<string, Layer>, p: PullProgress): Layer | undefined {
  if (p.kind === 'layers') {
    for (const l of p.layers)
      layers.set(l.digest, { size: l.size, received: l.present ? l.size : 0, present: l.present, fetched: false, fetchedBytes: 0, seconds: 0 });
    return undefined;
  }
  const l = layers.get(p.digest);
  if (!l) return undefined; // the config blob: no bar
  if (p.kind === 'bytes') {
    l.started ??= Date.now();
    l.received = p.received;
  } else if (p.kind === 'fetched') {
    l.fetched = true;
    l.received = l.size;
    l.fetchedBytes = p.size - p.resumedAt;
    l.seconds = l.started ? (Date.now() - l.started) / 1000 : 0;
  }
  return l;
}

const BAR = 16;

/** One layer's line: `1e6c03d608a4: pulling   [=====>          ] 2.51 MiB/7.06 MiB 33.1 MiB/s ETA 1s` */
function layerLine(id: string, l: Layer, status: string, progress: number): string {
  if (l.present) return `${id}: already exists`;
  const full = Math.floor(Math.min(1, progress) * BAR);
  const bar = full >= BAR ? '='.repeat(BAR) : `${'='.repeat(Math.max(0, full - 1))}${full ? '>' : ''}${' '.repeat(BAR - Math.max(full, 0))}`;
  const secs = l.started ? (Date.now() - l.started) / 1000 : 0;
  if (status === 'done' || status === 'unpacking')
    return `${id}: ${status.padEnd(9)} [${bar}] ${bytes(l.size)}${l.fetched ? ` in ${(l.seconds || secs).toFixed(1)} s (${rate(l.fetchedBytes, l.seconds || secs)})` : ''}`;
  if (status === 'waiting' || !l.received) return `${id}: ${'waiting'.padEnd(9)} [${bar}] ${bytes(0)}/${bytes(l.size)}`;
  const perSecond = secs > 0 ? l.received / secs : 0;
  const eta = perSecond > 0 ? Math.ceil((l.size - l.received) / perSecond) : undefined;
  return `${id}: ${status.padEnd(9)} [${bar}] ${bytes(l.received)}/${bytes(l.size)} ${rate(l.received, secs)} ETA ${eta === undefined ? '-' : `${eta}s`}`;
}

/** Live bars, one per layer, redrawn in place by cli-progress. */
function bars(ref: string): PullDisplay {
  const { MultiBar } = require('cli-progress') as typeof import('cli-progress');
  const layers = new Map<string, Layer>();
  const multi = new MultiBar({
    stream: process.stderr,
    format: (_o: unknown, params: { progress: number }, payload: { digest: string; status: string }) =>
      layerLine(short(payload.digest), layers.get(payload.digest)!, payload.status, params.progress),
    hideCursor: true,
    clearOnComplete: false,
    fps: 8,
  } as import('cli-progress').Options);
  const shown = new Map<string, import('cli-progress').SingleBar>();
  // Ctrl-C: give the cursor back, then die of the signal as before.
  const interrupted = (sig: NodeJS.Signals): void => {
    multi.stop();
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const t0 = Date.now();
  return {
    progress(p) {
      const l = track(layers, p);
      if (p.kind === 'layers') {
        for (const [digest, layer] of layers)
          shown.set(digest, multi.create(layer.size || 1, layer.present ? layer.size || 1 : 0, { digest, status: 'waiting' }));
        return;
      }
      const bar = shown.get(p.digest);
      if (!l || !bar) return;
      if (p.kind === 'bytes') bar.update(l.received, { digest: p.digest, status: 'pulling' });
      else bar.update(l.size || 1, { digest: p.digest, status: p.kind === 'fetched' ? 'unpacking' : 'done' });
    },
    end(ok, name) {
      multi.stop();
      process.removeListener('SIGINT', interrupted);
      process.removeListener('SIGTERM', interrupted);
      if (ok) process.stderr.write(`${summaryLine(name ?? ref, layers, (Date.now() - t0) / 1000)}\n`);
    },
  };
}

/** pulled NAME: 2 layers, 2 fetched (8.07 MiB in 0.6 s, 13.6 MiB/s), 1 already in the store */
function summaryLine(name: string, layers: Map<string, Layer>, secs: number): string {
  const s = tally(layers);
  const n = `${layers.size} layer${layers.size === 1 ? '' : 's'}`;
  if (!s.fetched) return `pulled ${name}: ${n}, all already in the store`;
  return `pulled ${name}: ${n}, ${s.fetched} fetched (${bytes(s.bytes)} in ${secs.toFixed(1)} s, ${rate(s.bytes, secs)})${s.present ? `, ${s.present} already in the store` : ''}`;
}

/** Bars on a terminal, a summary line elsewhere; nothing with -q, nor under --explain (its narration tells each step). */
export function pullDisplay(ref: string, quiet: boolean, narrated: boolean): PullDisplay | undefined {
  if (quiet || narrated) return undefined;
  return process.stderr.isTTY ? bars(ref) : summary(ref);
}
