// inspect ID: the container seen from the kernel's side (namespaces, cgroup, processes,
// capabilities, seccomp, mounts, layers), as text (--explain says what each part means, --lang
// in which language), JSON with the exact numbers, or one HTML page (--html FILE).
import * as fs from 'node:fs';
import type { InspectTexts } from '../events/catalog/types';
import { pickLang, INSPECT_LABELS, INSPECT_TEXTS, type Lang } from '../events/narrate';
import { inspectContainer, type Inspection } from '../runtime/inspect';
import { bool, needId, parseCommand, str } from './args';
import type { Globals } from './globals';
import { bytes } from './units';

/** No limit: "max" on v2, a page-rounded 2^63 on v1. */
const unlimited = (n: number): boolean => n >= Number.MAX_SAFE_INTEGER || n >= 2 ** 62;

function mountLines(mounts: Inspection['mounts'], L: (typeof INSPECT_LABELS)[Lang]): string[] {
  const w = Math.max(...mounts.map((m) => m.target.length), 4) + 2;
  const t = Math.max(...mounts.map((m) => m.fstype.length), L.masked.length, 4) + 2;
  return mounts.map((m) => {
    if (m.masked) return `  ${m.target.padEnd(w)}${L.masked.padEnd(t)}${m.masked === 'file' ? L.maskedFile : L.maskedDir}`;
    // The mount's own options, then the filesystem's (what all its mounts share), as the kernel reports them.
    return `  ${m.target.padEnd(w)}${m.fstype.padEnd(t)}${m.options}${m.superOptions ? `  (${m.fstype}: ${m.superOptions})` : ''}`;
  });
}

function render(i: Inspection, lang: Lang, explain: boolean): string {
  const L = INSPECT_LABELS[lang];
  const out: string[] = [];
  const section = (name: keyof InspectTexts, title: string): void => {
    out.push(title);
    if (explain) out.push(`  # ${INSPECT_TEXTS[lang][name]}`);
  };
  out.push(L.container(i.id, i.status, i.pid));
  section('namespaces', L.namespaces);
  for (const n of i.namespaces)
    out.push(`  ${n.type.padEnd(8)} ${(n.container || '-').padEnd(24)} ${n.host.padEnd(24)} ${!n.container ? '' : n.shared ? L.shared : L.own}`.trimEnd());
  section('cgroup', L.cgroup(i.cgroup.path));
  const mem = i.cgroup.memory;
  const pids = i.cgroup.pids;
  out.push(`  memory  ${L.memory(bytes(mem.usage), unlimited(mem.limit) ? undefined : bytes(mem.limit))}`);
  out.push(`  pids    ${L.pids(pids.current, unlimited(pids.limit) || pids.limit <= 0 ? undefined : String(pids.limit))}`);
  out.push(`  cpu     ${L.cpu((i.cgroup.cpu.usageNs / 1e6).toFixed(1), i.cgroup.cpu.throttledPeriods)}`);
  if (i.processes.length) {
    section('processes', L.processes);
    for (const p of i.processes) out.push(`  ${String(p.hostPid).padStart(7)} -> ${String(p.containerPid).padEnd(5)} ${p.name}`);
  }
  section('capabilities', L.capabilities);
  for (const [set, caps] of Object.entries(i.capabilities))
    out.push(`  ${L.capSets[set as keyof typeof L.capSets].padEnd(11)} ${caps.length ? caps.join(' ') : L.none}`);
  section('seccomp', L.seccomp(i.seccomp, i.noNewPrivs));
  section('mounts', L.mounts);
  if (i.mounts.length) out.push(...mountLines(i.mounts, L));
  if (i.layers.length) {
    section('layers', L.layers);
    for (const l of i.layers) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}

export function inspect(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('inspect', argv);
  const i = inspectContainer(g.root, needId(args, 'inspect'));
  const lang = pickLang(str(flags['lang']));
  const html = str(flags['html']);
  if (html) {
    const { renderPicture } = require('../events/picture') as typeof import('../events/picture');
    fs.writeFileSync(html, renderPicture({ title: `tsrun inspect ${i.id}`, lang, events: [], container: i }));
  } else if (str(flags['format']) === 'json')
    process.stdout.write(JSON.stringify(i, null, 2) + '\n'); // the exact numbers, for programs
  else process.stdout.write(render(i, lang, bool(flags['explain'])));
  return 0;
}
