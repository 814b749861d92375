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

/** The words of `inspect`'s report (the values between them are data). */
export const INSPECT_LABELS = {
  en: {
    container: (id: string, status: string, pid: number) => `container ${id}: ${status}, pid ${pid}`,
    namespaces: 'namespaces (container vs host):',
    shared: 'shared with the host',
    own: 'own',
    cgroup: (path: string) => `cgroup ${path}:`,
    memory: (used: string, limit: string) => `${used} bytes used, limit ${limit}`,
    pids: (n: number, limit: string) => `${n} running, limit ${limit}`,
    cpu: (ms: string, periods: number) => `${ms} ms used, throttled in ${periods} periods`,
    capabilities: 'capabilities:',
    capSets: { bounding: 'bounding', effective: 'effective', permitted: 'permitted', inheritable: 'inheritable', ambient: 'ambient' },
    none: '(none)',
    seccomp: (mode: string, nnp: boolean) => `seccomp: ${mode}; no_new_privs: ${nnp ? 'yes' : 'no'}`,
    mounts: 'mounts (seen from inside):',
    layers: 'root overlay layers (top first):',
    processes: 'processes (host pid -> container pid):',
  },
  ja: {
    container: (id: string, status: string, pid: number) => `コンテナ ${id}: ${({ created: '作成済み', running: '実行中', stopped: '停止', paused: '一時停止中', creating: '作成中' } as Record<string, string>)[status] ?? status}、pid ${pid}`,
    namespaces: '名前空間（コンテナ / ホスト）:',
    shared: 'ホストと共有',
    own: '専用',
    cgroup: (path: string) => `cgroup ${path}:`,
    memory: (used: string, limit: string) => `使用 ${used} バイト、上限 ${limit}`,
    pids: (n: number, limit: string) => `実行中 ${n}、上限 ${limit}`,
    cpu: (ms: string, periods: number) => `使用 ${ms} ms、スロットリング ${periods} 回`,
    capabilities: 'capability:',
    capSets: { bounding: 'バウンディング', effective: '実効', permitted: '許可', inheritable: '継承', ambient: 'アンビエント' },
    none: '（なし）',
    seccomp: (mode: string, nnp: boolean) => `seccomp: ${({ disabled: '無効', strict: 'strict', filter: 'filter' } as Record<string, string>)[mode] ?? mode}、no_new_privs: ${nnp ? 'あり' : 'なし'}`,
    mounts: 'マウント（コンテナの中から見たもの）:',
    layers: 'ルートの overlay レイヤー（上から）:',
    processes: 'プロセス（ホストの pid -> コンテナの pid）:',
  },
} as const;

/** What `inspect --explain` says about each part of the kernel's view. */
export const INSPECT_TEXTS = {
  en: {
    namespaces: 'Each namespace is a kernel object with an inode; the same inode as the host means shared, another means isolated.',
    cgroup: 'The cgroup counts what the processes use and holds the limits the kernel enforces.',
    processes: 'Every process in the cgroup has two pids: the host\'s, and the one its own pid namespace gives it (the init is 1).',
    capabilities: 'Root\'s powers, split into capabilities; the bounding set is the most this process tree can ever have.',
    seccomp: '"filter" means a BPF program checks each system call; no_new_privs stops setuid programs from gaining privileges.',
    mounts: 'The mount table of the container\'s own mount namespace, as /proc/PID/mountinfo shows it.',
    layers: 'The image layers stacked by overlayfs under the container\'s writable upper dir.',
  },
  ja: {
    namespaces: '名前空間はカーネルのオブジェクトで inode を持ちます。ホストと同じ inode なら共有、違えば分離されています。',
    cgroup: 'cgroup はプロセスの使用量を数え、カーネルが強制する制限を持ちます。',
    processes: 'cgroup 内の各プロセスには pid が 2 つあります。ホストでの pid と、自分の PID 名前空間での pid です（init は 1）。',
    capabilities: 'root の権限を細かく分けたものです。バウンディングセットはこのプロセスツリーが持てる上限です。',
    seccomp: '「filter」は BPF プログラムが各システムコールを調べることを意味します。no_new_privs は setuid で権限が増えるのを防ぎます。',
    mounts: 'コンテナ自身のマウント名前空間のマウントテーブルです（/proc/PID/mountinfo）。',
    layers: 'overlayfs がコンテナの書き込み用 upper ディレクトリの下に重ねたイメージのレイヤーです。',
  },
} as const;
