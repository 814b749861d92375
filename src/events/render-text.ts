import type { StepEvent } from './types';

export function renderText(e: StepEvent): string {
  const ms = (e.durationUs / 1000).toFixed(2).padStart(7);
  return `[${ms} ms] ${e.kind.padEnd(16)} ${e.detail}`;
}
