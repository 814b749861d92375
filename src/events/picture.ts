// --explain=html and `inspect --html`: the container being made, as one self-contained page
// (inline CSS and SVG, a few lines of script to switch language; nothing fetched). It is drawn
// from the same event stream as the text narration, and from the kernel's view that inspect
// reads, so what the page shows is what happened, with its real durations.
import { CATALOGS, detailIn, type Lang } from './narrate';
import type { StepEvent, StepKind } from './types';

/** The kernel's view of one container (the runtime's Inspection has this shape). */
export interface ContainerView {
  id: string;
  status: string;
  pid: number;
  namespaces: { type: string; container: string; host: string; shared: boolean }[];
  cgroup: {
    path: string;
    memory: { usage: number; limit: number };
    pids: { current: number; limit: number };
    cpu: { usageNs: number; throttledPeriods: number };
  };
  processes: { hostPid: number; containerPid: number; ppid: number; name: string }[];
  overlay?: { lower: DirView[]; upper?: DirView; work?: string };
  capabilities?: { bounding: string[]; effective: string[] };
  seccomp?: string;
}

export interface DirView {
  dir: string;
  files: number;
  capped: boolean;
}

/** A pod as the CRI server made it: what its containers join. */
export interface PodView {
  id: string;
  name: string;
  namespace: string;
  /** the pod's pinned namespace files, and the pid namespace of its PID 1 when shared */
  namespaces: { type: string; path: string }[];
  ip?: string;
  network?: string;
  bridge?: string;
  hostVeth?: string;
  podInterface?: string;
  ports: string[];
  containers: { id: string; name: string; state: string; pid?: number; joins: { type: string; path: string }[] }[];
}

export interface PictureInput {
  title: string;
  lang: Lang;
  events: StepEvent[];
  container?: ContainerView;
  pod?: PodView;
}

export type Stage = 'image' | 'runtime' | 'init' | 'init-before' | 'init-after' | 'pod';

const IMAGE_KINDS = new Set<StepKind>(['image_resolved', 'platform_selected', 'blob_fetched', 'layer_unpacked', 'image_stored', 'rootfs_mounted']);
const POD_KINDS = new Set<StepKind>([
  'pod_namespaces',
  'pod_shm',
  'pod_network',
  'pod_files',
  'pod_infra',
  'pod_stopped',
  'pod_removed',
  'container_spec',
  'monitor_started',
  'container_exited',
]);
// What the native init reports over the sync socket, from clone to execve.
const INIT_KINDS = new Set<StepKind>([
  'setns',
  'clone',
  'id_maps',
  'namespace',
  'rootfs',
  'mount',
  'idmap',
  'device',
  'createContainer',
  'startContainer',
  'pivot_root',
  'chroot',
  'readonly_path',
  'masked_path',
  'readonly_root',
  'hostname',
  'domainname',
  'sysctl',
  'console',
  'oom_score_adj',
  'rlimit',
  'cap_bounding',
  'user',
  'capabilities',
  'seccomp',
]);
const PIVOTS = new Set<StepKind>(['pivot_root', 'chroot']);

/**
 * Each event's stage. The init's steps are split at pivot_root (or chroot): before it the init
 * still sees the host's filesystem, after it only the container's. An exec has no pivot_root.
 */
export function stagesOf(events: StepEvent[]): Stage[] {
  const pivots = new Set(events.filter((e) => PIVOTS.has(e.kind)).map((e) => e.containerId ?? ''));
  const pivoted = new Set<string>();
  return events.map((e) => {
    if (IMAGE_KINDS.has(e.kind)) return 'image';
    if (POD_KINDS.has(e.kind)) return 'pod';
    if (!INIT_KINDS.has(e.kind)) return 'runtime';
    const c = e.containerId ?? '';
    if (!pivots.has(c)) return 'init';
    if (pivoted.has(c)) return 'init-after';
    if (PIVOTS.has(e.kind)) pivoted.add(c);
    return 'init-before';
  });
}

const WORDS = {
  stage: {
    image: ['image: registry → content store', 'イメージ: レジストリ → コンテンツストア'],
    runtime: ['runtime: tsrun on the host', 'ランタイム: ホスト側の tsrun'],
    init: ["init: inside the container's namespaces", 'init: コンテナの名前空間の中'],
    'init-before': [
      "init, before pivot_root: new namespaces, the host's files still in view",
      'init（pivot_root の前）: 新しい名前空間の中、ホストのファイルはまだ見える',
    ],
    'init-after': ["init, after pivot_root: only the container's root is left", 'init（pivot_root の後）: 見えるのはコンテナのルートだけ'],
    pod: ['pod: the CRI server', 'Pod: CRI サーバー'],
  } as Record<Stage, readonly [string, string]>,
  timeline: ['The steps, end to end, each as long as it took', 'ステップを順に並べたもの（長さはかかった時間）'],
  steps: ['Every step, in order', 'すべてのステップ（順番どおり）'],
  noSteps: [
    'No steps were recorded here: inspect looks at a container that already runs.',
    'ここにはステップの記録がありません。inspect は動いているコンテナを見るだけです。',
  ],
  total: ['total', '合計'],
  beside: ['The container beside the host', 'ホストとコンテナ'],
  host: ['host', 'ホスト'],
  container: ['container', 'コンテナ'],
  namespaces: ["Namespaces: the same inode as the host is shared, another is the container's own", '名前空間: ホストと同じ inode なら共有、違えば専用'],
  shared: ['shared with the host', 'ホストと共有'],
  own: ['own', '専用'],
  cgroup: ['cgroup: what the container uses, against its limits', 'cgroup: 使用量と上限'],
  memory: ['memory', 'メモリ'],
  pids: ['processes', 'プロセス数'],
  cpu: ['CPU time', 'CPU 時間'],
  noLimit: ['no limit', '上限なし'],
  throttled: ['throttled periods', 'スロットリング回数'],
  processes: ["Processes: the host's pid beside the container's", 'プロセス: ホストの pid とコンテナの pid'],
  hostPid: ['host pid', 'ホストの pid'],
  containerPid: ['container pid', 'コンテナの pid'],
  name: ['program', 'プログラム'],
  noProcesses: ['no process is left in the cgroup', 'cgroup にプロセスは残っていません'],
  overlay: [
    'The root filesystem: overlayfs stacks the image layers under a writable upper dir',
    'ルートファイルシステム: overlayfs がイメージのレイヤーを重ね、一番上に書き込み用の upper を置く',
  ],
  upper: ["upper (writable, this container's)", 'upper（書き込み用、このコンテナ専用）'],
  lower: ['layer (read-only, shared)', 'レイヤー（読み取り専用、共有）'],
  work: ["work dir (overlayfs's scratch space)", 'work ディレクトリ（overlayfs の作業用）'],
  files: ['files', 'ファイル'],
  notOverlay: ['The root is not an overlay (a plain directory bundle).', 'ルートは overlay ではありません（ふつうのディレクトリのバンドル）。'],
  pod: ['The pod: what its containers join', 'Pod: コンテナが参加するもの'],
  pinned: ['namespaces held by bind mounts (no process needed)', 'バインドマウントで保持した名前空間（プロセスは不要）'],
  bridge: ['bridge', 'ブリッジ'],
  veth: ['veth pair', 'veth ペア'],
  podIp: ['pod IP', 'Pod の IP'],
  joins: ['joins', '参加'],
  ports: ['ports', 'ポート'],
  caps: ['capabilities kept', '残した capability'],
  /** the switch names the other language, in that language */
  language: ['日本語', 'English'],
} as const;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Both languages in the page; CSS shows the chosen one. */
function both([en, ja]: readonly [string, string], tag = 'span'): string {
  return `<${tag} class="l" lang="en">${esc(en)}</${tag}><${tag} class="l" lang="ja">${esc(ja)}</${tag}>`;
}

const ms = (us: number): string => (us / 1000).toFixed(2);
const STAGE_COLOR: Record<Stage, string> = {
  image: '#8e6bbf',
  runtime: '#3b7dd8',
  init: '#d9822b',
  'init-before': '#d9822b',
  'init-after': '#2f9e6b',
  pod: '#c0392b',
};

function timelineSvg(events: StepEvent[], stages: Stage[]): string {
  const W = 960;
  const H = 36;
  const total = events.reduce((s, e) => s + e.durationUs, 0) || 1;
  const free = W - 2 * events.length;
  let x = 0;
  const rects = events.map((e, i) => {
    const w = 2 + (free * e.durationUs) / total;
    const r = `<rect x="${x.toFixed(2)}" y="4" width="${w.toFixed(2)}" height="${H - 8}" fill="${STAGE_COLOR[stages[i]!]}" stroke="#fff" stroke-width="0.5"><title>${esc(`${i + 1}. ${CATALOGS.en[e.kind].title} / ${CATALOGS.ja[e.kind].title}: ${ms(e.durationUs)} ms`)}</title></rect>`;
    x += w;
    return r;
  });
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="timeline">${rects.join('')}</svg>`;
}

function stepsHtml(events: StepEvent[], stages: Stage[]): string {
  const longest = Math.max(1, ...events.map((e) => e.durationUs));
  const out: string[] = [];
  let open: Stage | undefined;
  events.forEach((e, i) => {
    const st = stages[i]!;
    if (st !== open) {
      if (open) out.push('</ol></section>');
      let sum = 0;
      for (let k = i; k < events.length && stages[k] === st; k++) sum += events[k]!.durationUs;
      out.push(
        `<section class="stage" data-stage="${st}"><h3 style="border-color:${STAGE_COLOR[st]}">${both(WORDS.stage[st])} <small>${ms(sum)} ms</small></h3><ol class="steps">`,
      );
      open = st;
    }
    const pct = Math.max(0.5, (100 * e.durationUs) / longest);
    const line = (lang: Lang): string =>
      `<div class="l" lang="${lang}"><b class="title">${esc(CATALOGS[lang][e.kind].title)}</b> <code class="detail">${esc(detailIn(e, lang))}</code><p class="explain">${esc(CATALOGS[lang][e.kind].explain)}</p></div>`;
    out.push(
      `<li class="step" data-index="${i}" data-kind="${e.kind}" data-stage="${st}" data-us="${e.durationUs}"><span class="ms">${ms(e.durationUs)} ms</span><span class="bar"><i style="width:${pct.toFixed(1)}%;background:${STAGE_COLOR[st]}"></i></span>${line('en')}${line('ja')}</li>`,
    );
  });
  if (open) out.push('</ol></section>');
  return out.join('\n');
}

function namespacesSvg(c: ContainerView): string {
  const row = 30;
  const H = 72 + row * c.namespaces.length;
  const W = 960;
  const parts: string[] = [
    `<rect x="4" y="4" width="${W - 8}" height="${H - 8}" rx="10" class="hostbox"/>`,
    `<rect x="500" y="28" width="${W - 516}" height="${H - 40}" rx="10" class="ctrbox"/>`,
    `<text x="16" y="22" class="head">${both(WORDS.host, 'tspan')}</text>`,
    `<text x="512" y="46" class="head">${both(WORDS.container, 'tspan')} ${esc(c.id)}</text>`,
  ];
  c.namespaces.forEach((n, i) => {
    const y = 58 + i * row;
    const ino = (s: string): string => /\[(\d+)\]/.exec(s)?.[1] ?? (s || '-');
    if (n.shared) {
      parts.push(
        `<g class="ns shared" data-type="${esc(n.type)}"><rect x="20" y="${y}" width="${W - 56}" height="22" rx="11"/><text x="32" y="${y + 16}">${esc(n.type)}  ${esc(ino(n.host))}  · ${both(WORDS.shared, 'tspan')}</text></g>`,
      );
    } else {
      parts.push(
        `<g class="ns" data-type="${esc(n.type)}"><rect x="20" y="${y}" width="300" height="22" rx="11" class="hostns"/><text x="32" y="${y + 16}">${esc(n.type)}  ${esc(ino(n.host))}</text>` +
          `<rect x="520" y="${y}" width="${W - 556}" height="22" rx="11" class="ownns"/><text x="532" y="${y + 16}">${esc(n.type)}  ${esc(ino(n.container))}  · ${both(WORDS.own, 'tspan')}</text></g>`,
      );
    }
  });
  return `<svg class="namespaces" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="namespaces">${parts.join('')}</svg>`;
}

const unlimited = (n: number): boolean => n >= Number.MAX_SAFE_INTEGER || n >= 2 ** 62 || n <= 0;

function meter(label: readonly [string, string], used: number, limit: number, unit: (n: number) => string): string {
  const pct = unlimited(limit) ? 0 : Math.min(100, (100 * used) / limit);
  return `<div class="meter"><span class="what">${both(label)}</span><span class="gauge"><i style="width:${pct.toFixed(1)}%"></i></span><span class="num">${esc(unit(used))} / ${unlimited(limit) ? both(WORDS.noLimit) : esc(unit(limit))}</span></div>`;
}

const bytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function processesHtml(c: ContainerView): string {
  if (!c.processes.length) return `<p>${both(WORDS.noProcesses)}</p>`;
  const pids = new Set(c.processes.map((p) => p.hostPid));
  const depth = (p: ContainerView['processes'][number]): number => {
    let d = 0;
    for (let q = p; pids.has(q.ppid) && d < 32; d++) q = c.processes.find((r) => r.hostPid === q.ppid)!;
    return d;
  };
  const rows = c.processes.map(
    (p) =>
      `<tr data-host-pid="${p.hostPid}"><td>${p.hostPid}</td><td>${p.containerPid}</td><td style="padding-left:${0.5 + depth(p) * 1.2}em">${esc(p.name)}</td></tr>`,
  );
  return `<table class="procs"><thead><tr><th>${both(WORDS.hostPid)}</th><th>${both(WORDS.containerPid)}</th><th>${both(WORDS.name)}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function overlaySvg(c: ContainerView): string {
  const o = c.overlay;
  if (!o) return `<p>${both(WORDS.notOverlay)}</p>`;
  const dirs: { d: DirView; kind: 'upper' | 'lower' }[] = [
    ...(o.upper ? [{ d: o.upper, kind: 'upper' as const }] : []),
    ...o.lower.map((d) => ({ d, kind: 'lower' as const })),
  ];
  const row = 46;
  const W = 960;
  const H = 16 + row * dirs.length + (o.work ? 30 : 0);
  const count = (d: DirView): string => `${d.files}${d.capped ? '+' : ''}`;
  const parts = dirs.map(({ d, kind }, i) => {
    const y = 8 + i * row;
    const w = 700 - i * 12;
    return `<g class="layer ${kind}" data-files="${d.files}"><rect x="${(W - w) / 2 - 100}" y="${y}" width="${w}" height="${row - 8}" rx="6"/><text x="${(W - w) / 2 - 88}" y="${y + 16}" class="head">${both(kind === 'upper' ? WORDS.upper : WORDS.lower, 'tspan')} · ${count(d)} ${both(WORDS.files, 'tspan')}</text><text x="${(W - w) / 2 - 88}" y="${y + 32}" class="path">${esc(d.dir)}</text></g>`;
  });
  if (o.work) parts.push(`<text x="20" y="${H - 10}" class="path">${both(WORDS.work, 'tspan')}: ${esc(o.work)}</text>`);
  return `<svg class="overlay" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="overlay">${parts.join('')}</svg>`;
}

function containerHtml(c: ContainerView): string {
  const g = c.cgroup;
  return `<section class="beside" data-container="${esc(c.id)}">
<h2>${both(WORDS.beside)}</h2>
<h3>${both(WORDS.namespaces)}</h3>
${namespacesSvg(c)}
<h3>${both(WORDS.cgroup)} <code>${esc(g.path)}</code></h3>
${meter(WORDS.memory, g.memory.usage, g.memory.limit, bytes)}
${meter(WORDS.pids, g.pids.current, g.pids.limit, String)}
<div class="meter"><span class="what">${both(WORDS.cpu)}</span><span class="num">${(g.cpu.usageNs / 1e6).toFixed(1)} ms · ${both(WORDS.throttled)} ${g.cpu.throttledPeriods}</span></div>
${c.capabilities ? `<p class="caps">${both(WORDS.caps)}: <code>${esc(c.capabilities.effective.join(' ') || '-')}</code>${c.seccomp ? ` · seccomp <code>${esc(c.seccomp)}</code>` : ''}</p>` : ''}
<h3>${both(WORDS.processes)}</h3>
${processesHtml(c)}
<h3>${both(WORDS.overlay)}</h3>
${overlaySvg(c)}
</section>`;
}

function podSvg(p: PodView): string {
  const W = 960;
  const nsRow = 26;
  const ctrH = 58;
  const podTop = 90;
  const nsH = 30 + nsRow * p.namespaces.length;
  const H = podTop + nsH + 20 + ctrH * Math.max(1, p.containers.length) + 30;
  const parts: string[] = [
    `<rect x="4" y="4" width="${W - 8}" height="${H - 8}" rx="10" class="hostbox"/>`,
    `<text x="16" y="24" class="head">${both(WORDS.host, 'tspan')}</text>`,
  ];
  if (p.bridge) {
    parts.push(
      `<g class="bridge"><rect x="40" y="36" width="260" height="30" rx="6"/><text x="52" y="56">${both(WORDS.bridge, 'tspan')} ${esc(p.bridge)}</text></g>`,
    );
    parts.push(
      `<line x1="170" y1="66" x2="170" y2="${podTop + 20}" class="wire"/><text x="180" y="${podTop - 6}" class="path">${both(WORDS.veth, 'tspan')} ${esc(p.hostVeth ?? '')} ↔ ${esc(p.podInterface ?? 'eth0')}</text>`,
    );
  }
  parts.push(`<rect x="30" y="${podTop}" width="${W - 60}" height="${H - podTop - 16}" rx="10" class="ctrbox"/>`);
  parts.push(
    `<text x="44" y="${podTop + 20}" class="head">Pod ${esc(p.namespace)}/${esc(p.name)}${p.ip ? ` · ${both(WORDS.podIp, 'tspan')} ${esc(p.ip)}` : ''}${p.ports.length ? ` · ${both(WORDS.ports, 'tspan')} ${esc(p.ports.join(', '))}` : ''}</text>`,
  );
  parts.push(`<text x="44" y="${podTop + 40}" class="path">${both(WORDS.pinned, 'tspan')}</text>`);
  p.namespaces.forEach((n, i) => {
    const y = podTop + 48 + i * nsRow;
    parts.push(
      `<g class="ns pinned" data-type="${esc(n.type)}"><rect x="44" y="${y}" width="${W - 88}" height="20" rx="10"/><text x="56" y="${y + 14}">${esc(n.type)}  ${esc(n.path)}</text></g>`,
    );
  });
  p.containers.forEach((c, i) => {
    const y = podTop + nsH + 30 + i * ctrH;
    parts.push(
      `<g class="member" data-container="${esc(c.id)}"><rect x="60" y="${y}" width="${W - 120}" height="${ctrH - 10}" rx="8"/><text x="72" y="${y + 18}" class="head">${both(WORDS.container, 'tspan')} ${esc(c.name)} · ${esc(c.state)}${c.pid ? ` · pid ${c.pid}` : ''}</text><text x="72" y="${y + 36}" class="path">${both(WORDS.joins, 'tspan')}: ${esc(c.joins.map((j) => j.type).join(', ') || '-')}</text></g>`,
    );
  });
  return `<svg class="pod" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="pod">${parts.join('')}</svg>`;
}

const CSS = `
:root{font:15px/1.45 system-ui,sans-serif;color:#222;background:#fafafa}
body{max-width:1000px;margin:1em auto;padding:0 1em}
html[data-lang=en] .l[lang=ja],html[data-lang=ja] .l[lang=en]{display:none}
h1{font-size:1.4em}h2{margin-top:1.6em;border-bottom:2px solid #ddd}h3{font-size:1.05em;margin:1.2em 0 .4em}
h3 small{color:#777;font-weight:normal}
.stage h3{border-left:6px solid;padding-left:.5em}
.steps{list-style:none;padding:0;margin:0}
.step{display:grid;grid-template-columns:6em 8em 1fr;gap:.6em;padding:.3em 0;border-bottom:1px solid #eee}
.step .ms{text-align:right;font-variant-numeric:tabular-nums;color:#555}
.step .bar{background:#eee;height:.8em;margin-top:.35em;border-radius:3px;overflow:hidden}.step .bar i{display:block;height:100%}
.step .detail{font-size:.9em;word-break:break-all;color:#333}
.step .explain{margin:.15em 0 0;color:#555;font-size:.92em}
code{font:.9em ui-monospace,monospace}
svg text{font:13px ui-monospace,monospace;fill:#222}svg text.head{font:bold 13px system-ui,sans-serif}svg text.path{fill:#555;font-size:12px}
svg .hostbox{fill:#eef2f7;stroke:#9aa8ba}svg .ctrbox{fill:#fff7e8;stroke:#d9a441}
svg .ns rect{fill:#fff;stroke:#999}svg .ns.shared rect{fill:#dde3ea}svg .ownns{fill:#ffe2b3!important;stroke:#d9822b!important}svg .hostns{fill:#f4f4f4!important}
svg .layer.upper rect{fill:#d5f0df;stroke:#2f9e6b}svg .layer.lower rect{fill:#e6e0f3;stroke:#8e6bbf}
svg .bridge rect{fill:#dbe8fb;stroke:#3b7dd8}svg .wire{stroke:#3b7dd8;stroke-width:3}
svg .pinned rect{fill:#fde2e0;stroke:#c0392b}svg .member rect{fill:#fff;stroke:#d9a441}
.meter{display:grid;grid-template-columns:9em 1fr 16em;gap:.6em;align-items:center;margin:.3em 0}
.meter .gauge{background:#eee;height:.9em;border-radius:4px;overflow:hidden}.meter .gauge i{display:block;height:100%;background:#3b7dd8}
.procs{border-collapse:collapse}.procs td,.procs th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
.switch{float:right}
`;

// The only script: switch the language shown (both are in the page).
const SCRIPT = `document.getElementById('switch').addEventListener('click',function(){var h=document.documentElement;h.dataset.lang=h.dataset.lang==='ja'?'en':'ja';h.lang=h.dataset.lang;});`;

export function renderPicture(p: PictureInput): string {
  const stages = stagesOf(p.events);
  const total = p.events.reduce((s, e) => s + e.durationUs, 0);
  const legend = [...new Set(stages)]
    .map((s) => `<span class="key"><i style="display:inline-block;width:.8em;height:.8em;background:${STAGE_COLOR[s]}"></i> ${both(WORDS.stage[s])}</span>`)
    .join(' ');
  const steps = p.events.length
    ? `<h2>${both(WORDS.timeline)} <small>(${both(WORDS.total)} ${ms(total)} ms)</small></h2>
${timelineSvg(p.events, stages)}
<p class="legend">${legend}</p>
<h2>${both(WORDS.steps)}</h2>
${stepsHtml(p.events, stages)}`
    : `<p class="nosteps">${both(WORDS.noSteps)}</p>`;
  return `<!DOCTYPE html>
<html lang="${p.lang}" data-lang="${p.lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(p.title)}</title>
<style>${CSS}</style></head>
<body>
<button id="switch" class="switch" type="button"><span class="l sw" lang="en">${WORDS.language[0]}</span><span class="l sw" lang="ja">${WORDS.language[1]}</span></button>
<h1>${esc(p.title)}</h1>
${p.pod ? `<h2>${both(WORDS.pod)}</h2>\n${podSvg(p.pod)}` : ''}
${steps}
${p.container ? containerHtml(p.container) : ''}
<script>${SCRIPT}</script>
</body></html>
`;
}
