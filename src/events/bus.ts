// Where step events go. Sinks are added by the CLI (text/JSON log, later the narrator);
// with no sink an event costs one array check.
import type { StepEvent, StepKind } from './types';

export type Sink = (e: StepEvent) => void;

const sinks: Sink[] = [];

export function addSink(s: Sink): void {
  sinks.push(s);
}

export function tracing(): boolean {
  return sinks.length > 0;
}

export function emit(kind: StepKind, detail: string, durationUs = 0, containerId?: string): void {
  if (sinks.length === 0) return;
  const e: StepEvent = { kind, detail, durationUs, time: new Date().toISOString(), containerId };
  for (const s of sinks) s(e);
}

/** Times a synchronous step and emits it. */
export function step<T>(kind: StepKind, detail: string, fn: () => T, containerId?: string): T {
  if (sinks.length === 0) return fn();
  const t0 = process.hrtime.bigint();
  const r = fn();
  emit(kind, detail, Number((process.hrtime.bigint() - t0) / 1000n), containerId);
  return r;
}
