import { pickLang, INSPECT_TEXTS } from '../events/narrate';
import { inspectContainer, type Inspection } from '../runtime/inspect';
import { bool, needId, parseCommand, str } from './args';
import type { Globals } from './globals';

const max = (n: number): string => (n >= Number.MAX_SAFE_INTEGER || n >= 2 ** 62 ? 'max' : String(n));

function render(i: Inspection, explain: ((section: keyof typeof INSPECT_TEXTS.en) => string) | undefined): string {
  const out: string[] = [];
  const section = (name: keyof typeof INSPECT_TEXTS.en, title: string): void => {
    out.push(title);
    if (explain) out.push(`  # ${explain(name)}`);
  };
  out.push(`container ${i.id}: ${i.status}, pid ${i.pid}`);
  section('namespaces', 'namespaces (container vs host):');
  for (const n of i.namespaces) out.push(`  ${n.type.padEnd(8)} ${(n.container || '-').padEnd(24)} ${n.host.padEnd(24)} ${n.shared ? 'shared with the host' : 'own'}`);
  section('cgroup', `cgroup ${i.cgroup.path}:`);
  out.push(`  memory  ${i.cgroup.memory.usage} bytes used, limit ${max(i.cgroup.memory.limit)}`);
  out.push(`  pids    ${i.cgroup.pids.current} running, limit ${max(i.cgroup.pids.limit)}`);
  out.push(`  cpu     ${(i.cgroup.cpu.usageNs / 1e6).toFixed(1)} ms used, throttled in ${i.cgroup.cpu.throttledPeriods} periods`);
  section('capabilities', 'capabilities:');
  for (const [set, caps] of Object.entries(i.capabilities)) out.push(`  ${set.padEnd(11)} ${caps.length ? caps.join(' ') : '(none)'}`);
  section('seccomp', `seccomp: ${i.seccomp}; no_new_privs: ${i.noNewPrivs ? 'yes' : 'no'}`);
  section('mounts', 'mounts (seen from inside):');
  for (const m of i.mounts) out.push(`  ${m.target.padEnd(28)} ${m.fstype.padEnd(8)} ${m.options}`);
  if (i.layers.length) {
    section('layers', 'root overlay layers (top first):');
    for (const l of i.layers) out.push(`  ${l}`);
  }
  return out.join('\n') + '\n';
}

export function inspect(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('inspect', argv);
  const i = inspectContainer(g.root, needId(args, 'inspect'));
  if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(i, null, 2) + '\n');
  else {
    const lang = pickLang(str(flags['lang']));
    process.stdout.write(render(i, bool(flags['explain']) ? (s) => INSPECT_TEXTS[lang][s] : undefined));
  }
  return 0;
}
