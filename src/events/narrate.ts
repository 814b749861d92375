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

/** The event's detail as the narration in `lang` says it. */
export function detailIn(e: Pick<StepEvent, 'kind' | 'detail'>, lang: Lang): string {
  const say = CATALOGS[lang][e.kind].detail;
  return say ? say(e.detail) : e.detail;
}

export function narrate(e: StepEvent, lang: Lang): string {
  const t = CATALOGS[lang][e.kind];
  const ms = (e.durationUs / 1000).toFixed(2).padStart(7);
  return `[${ms} ms] ${t.title}: ${detailIn(e, lang)}\n             ${t.explain}\n`;
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
    const line = `[${(e.durationUs / 1000).toFixed(2).padStart(7)} ms] ${t.title}: ${detailIn(e, lang)}\n`;
    if (told.has(e.kind)) return line;
    told.add(e.kind);
    return `${line}             ${(opts.cgroupV1 && t.explainCgroupV1) || t.explain}\n`;
  };
}

/** What `inspect --explain` says about each part of the kernel's view. */
export const INSPECT_TEXTS: Record<Lang, InspectTexts> = { en: enInspect, ja: jaInspect };

/** The words of `inspect`'s report (the values between them are data, sizes already in human units). */
export const INSPECT_LABELS = {
  en: {
    container: (id: string, status: string, pid: number) => `container ${id}: ${status}, pid ${pid}`,
    namespaces: 'namespaces (container vs host):',
    shared: 'shared with the host',
    own: 'own',
    cgroup: (path: string) => `cgroup ${path}:`,
    memory: (used: string, limit: string | undefined) => `${used} used, ${limit ? `limit ${limit}` : 'no limit'}`,
    pids: (n: number, limit: string | undefined) => `${n} running, ${limit ? `limit ${limit}` : 'no limit'}`,
    cpu: (ms: string, periods: number) => `${ms} ms used, throttled in ${periods} periods`,
    capabilities: 'capabilities:',
    capSets: { bounding: 'bounding', effective: 'effective', permitted: 'permitted', inheritable: 'inheritable', ambient: 'ambient' },
    none: '(none)',
    seccomp: (mode: string, nnp: boolean) => `seccomp: ${mode}; no_new_privs: ${nnp ? 'yes' : 'no'}`,
    mounts: 'mounts (seen from inside):',
    masked: 'masked',
    maskedFile: '/dev/null bound over the file',
    maskedDir: 'an empty read-only tmpfs over the directory',
    layers: 'root overlay layers (top first):',
    processes: 'processes (host pid -> container pid):',
  },
  ja: {
    container: (id: string, status: string, pid: number) =>
      `コンテナ ${id}: ${({ created: '作成済み', running: '実行中', stopped: '停止', paused: '一時停止中', creating: '作成中' } as Record<string, string>)[status] ?? status}、pid ${pid}`,
    namespaces: '名前空間（コンテナ / ホスト）:',
    shared: 'ホストと共有',
    own: '専用',
    cgroup: (path: string) => `cgroup ${path}:`,
    memory: (used: string, limit: string | undefined) => `使用 ${used}、${limit ? `上限 ${limit}` : '上限なし'}`,
    pids: (n: number, limit: string | undefined) => `実行中 ${n}、${limit ? `上限 ${limit}` : '上限なし'}`,
    cpu: (ms: string, periods: number) => `使用 ${ms} ms、スロットリング ${periods} 回`,
    capabilities: 'capability:',
    capSets: { bounding: 'バウンディング', effective: '実効', permitted: '許可', inheritable: '継承', ambient: 'アンビエント' },
    none: '（なし）',
    seccomp: (mode: string, nnp: boolean) =>
      `seccomp: ${({ disabled: '無効', strict: 'strict', filter: 'filter' } as Record<string, string>)[mode] ?? mode}、no_new_privs: ${nnp ? 'あり' : 'なし'}`,
    mounts: 'マウント（コンテナの中から見たもの）:',
    masked: 'マスク',
    maskedFile: 'ファイルの上に /dev/null をバインド',
    maskedDir: 'ディレクトリの上に空の読み取り専用 tmpfs',
    layers: 'ルートの overlay レイヤー（上から）:',
    processes: 'プロセス（ホストの pid -> コンテナの pid）:',
  },
} as const;
