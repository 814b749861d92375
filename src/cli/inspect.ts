import * as fs from 'node:fs';
import { pickLang, INSPECT_LABELS, INSPECT_TEXTS, type Lang } from '../events/narrate';
import { inspectContainer, type Inspection } from '../runtime/inspect';
import { bool, needId, parseFlags, str } from './args';
import type { Globals } from './globals';

const max = (n: number): string => (n >= Number.MAX_SAFE_INTEGER || n >= 2 ** 62 ? 'max' : String(n));

function render(i: Inspection, lang: Lang, explain: boolean): string {
  const L = INSPECT_LABELS[lang];
  const out: string[] = [];
  const section = (name: keyof typeof INSPECT_TEXTS.en, title: string): void => {
    out.push(title);
    if (explain) out.push(`  # ${INSPECT_TEXTS[lang][name]}`);
  };
  out.push(L.container(i.id, i.status, i.pid));
  section('namespaces', L.namespaces);
  for (const n of i.namespaces) out.push(`  ${n.type.padEnd(8)} ${(n.container || '-').padEnd(24)} ${n.host.padEnd(24)} ${n.shared ? L.shared : L.own}`);
  section('cgroup', L.cgroup(i.cgroup.path));
  out.push(`  memory  ${L.memory(String(i.cgroup.memory.usage), max(i.cgroup.memory.limit))}`);
  out.push(`  pids    ${L.pids(i.cgroup.pids.current, max(i.cgroup.pids.limit))}`);
  out.push(`  cpu     ${L.cpu((i.cgroup.cpu.usageNs / 1e6).toFixed(1), i.cgroup.cpu.throttledPeriods)}`);
  if (i.processes.length) {
    section('processes', L.processes);
    for (const p of i.processes) out.push(`  ${String(p.hostPid).padStart(7)} -> ${String(p.containerPid).padEnd(5)} ${p.name}`);
  }
  section('capabilities', L.capabilities);
  for (const [set, caps] of Object.entries(i.capabilities)) out.push(`  ${L.capSets[set as keyof typeof L.capSets].padEnd(11)} ${caps.length ? caps.join(' ') : L.none}`);
  section('seccomp', L.seccomp(i.seccomp, i.noNewPrivs));
  section('mounts', L.mounts);
  for (const m of i.mounts) out.push(`  ${m.target.padEnd(28)} ${m.fstype.padEnd(8)} ${m.options}`);
  if (i.layers.length) {
    section('layers', L.layers);
    for (const l of i.layers) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}

export function inspect(argv: string[], g: Globals): number {
  const { flags, args } = parseFlags(
    argv,
    [
      { name: 'format', alias: 'f', type: 'string' },
      { name: 'explain', type: 'bool' },
      { name: 'lang', type: 'string' },
      { name: 'html', type: 'string' },
    ],
    false,
  );
  const i = inspectContainer(g.root, needId(args, 'inspect'));
  const lang = pickLang(str(flags['lang']));
  const html = str(flags['html']);
  if (html) {
    const { renderPicture } = require('../events/picture') as typeof import('../events/picture');
    fs.writeFileSync(html, renderPicture({ title: `tsrun inspect ${i.id}`, lang, events: [], container: i }));
  } else if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(i, null, 2) + '\n');
  else process.stdout.write(render(i, lang, bool(flags['explain'])));
  return 0;
}
