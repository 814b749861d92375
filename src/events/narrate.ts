// --explain: each step as it happens, with its timing and what the kernel did, in English or
// Japanese. What is narrated is exactly the event stream the runtime emitted.
import { en } from './catalog/en';
import { ja } from './catalog/ja';
import type { Catalog } from './catalog/types';
import type { StepEvent } from './types';

export type Lang = 'en' | 'ja';
export const CATALOGS: Record<Lang, Catalog> = { en, ja };

/** --lang, else LANG/LC_ALL starting with "ja", else English. */
export function pickLang(flag: string | undefined): Lang {
  const v = flag ?? process.env['LC_ALL'] ?? process.env['LANG'] ?? '';
  return v.startsWith('ja') ? 'ja' : 'en';
}

export function narrate(e: StepEvent, lang: Lang): string {
  const t = CATALOGS[lang][e.kind];
  const ms = (e.durationUs / 1000).toFixed(2).padStart(7);
  return `[${ms} ms] ${t.title}: ${e.detail}\n             ${t.explain}\n`;
}
