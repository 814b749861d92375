// --explain: each step as it happens, with its timing and what the kernel did, in English or
// Japanese. What is narrated is exactly the event stream the runtime emitted.
import { en, enInspect } from './catalog/en';
import { ja, jaInspect } from './catalog/ja';
import type { Catalog, InspectTexts } from './catalog/types';
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

/**
 * The --explain narrator of one command: each step as it happens, and the idea behind a kind of
 * step the first time it comes (ten mounts are explained once). `cgroupV1`: the host's cgroup
 * files have their v1 names, and the explanations say those.
 */
export function narrator(lang: Lang, opts: { cgroupV1?: boolean } = {}): (e: StepEvent) => string {
  const told = new Set<StepEvent['kind']>();
  return (e) => {
    const t = CATALOGS[lang][e.kind];
    const line = `[${(e.durationUs / 1000).toFixed(2).padStart(7)} ms] ${t.title}: ${e.detail}\n`;
    if (told.has(e.kind)) return line;
    told.add(e.kind);
    return `${line}             ${(opts.cgroupV1 && t.explainCgroupV1) || t.explain}\n`;
  };
}

/** What `inspect --explain` says about each part of the kernel's view. */
export const INSPECT_TEXTS: Record<Lang, InspectTexts> = { en: enInspect, ja: jaInspect };
