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

/** What `inspect --explain` says about each part of the kernel's view. */
export const INSPECT_TEXTS = {
  en: {
    namespaces: 'Each namespace is a kernel object with an inode; the same inode as the host means shared, another means isolated.',
    cgroup: 'The cgroup counts what the processes use and holds the limits the kernel enforces.',
    capabilities: 'Root\'s powers, split into capabilities; the bounding set is the most this process tree can ever have.',
    seccomp: '"filter" means a BPF program checks each system call; no_new_privs stops setuid programs from gaining privileges.',
    mounts: 'The mount table of the container\'s own mount namespace, as /proc/PID/mountinfo shows it.',
    layers: 'The image layers stacked by overlayfs under the container\'s writable upper dir.',
  },
  ja: {
    namespaces: '名前空間はカーネルのオブジェクトで inode を持ちます。ホストと同じ inode なら共有、違えば分離されています。',
    cgroup: 'cgroup はプロセスの使用量を数え、カーネルが強制する制限を持ちます。',
    capabilities: 'root の権限を細かく分けたものです。バウンディングセットはこのプロセスツリーが持てる上限です。',
    seccomp: '「filter」は BPF プログラムが各システムコールを調べることを意味します。no_new_privs は setuid で権限が増えるのを防ぎます。',
    mounts: 'コンテナ自身のマウント名前空間のマウント表です（/proc/PID/mountinfo）。',
    layers: 'overlayfs がコンテナの書き込み用 upper ディレクトリの下に重ねたイメージのレイヤーです。',
  },
} as const;
