// The wire formats that TypeScript and C++ both speak, checked against each other: the plan's
// record tags (src/oci/plan-encode.ts, native/init/plan.h), the sync frame types
// (src/runtime/sync.ts, native/init/sync.h), the monitor's attach frames (src/cri/monitor/attach.ts,
// native/monitor/attach.h) and its control commands (control.ts, control.h). All are
// little-endian; a test below reads the byte-order words each side documents.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** Members of `enum NAME ... { ... }` (C++ or TypeScript), with implicit values counted on. */
export function enumMembers(source: string, name: string): Map<string, number> {
  const m = new RegExp(`enum\\s+(?:class\\s+)?${name}\\b[^{]*\\{([^}]*)\\}`).exec(source);
  if (!m) throw new Error(`enum ${name} not found`);
  const out = new Map<string, number>();
  let next = 0;
  for (const raw of m[1]!.replace(/\/\/.*$/gm, '').split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const [key, value] = item.split('=').map((s) => s.trim());
    const v = value === undefined ? next : Number(value);
    if (!Number.isInteger(v)) throw new Error(`enum ${name}: ${item}: not a number`);
    out.set(key!, v);
    next = v + 1;
  }
  return out;
}

/** Same names (after `strip` on the C++ side) with the same values. */
function same(t: import('ava').ExecutionContext, ts: Map<string, number>, cc: Map<string, number>, strip: (n: string) => string): void {
  const ccNamed = new Map([...cc].map(([k, v]) => [strip(k), v]));
  t.deepEqual(Object.fromEntries(ts), Object.fromEntries(ccNamed));
}

test('the enum reader counts implicit values as C++ and TypeScript do', (t) => {
  t.deepEqual(
    [...enumMembers('enum E : uint8_t { kA = 2, kB, kC = 7, kD };', 'E')],
    [
      ['kA', 2],
      ['kB', 3],
      ['kC', 7],
      ['kD', 8],
    ],
  );
});

test('plan record tags: plan-encode.ts and plan.h agree', (t) => {
  const ts = enumMembers(read('src/oci/plan-encode.ts'), 'Tag');
  t.true(ts.size > 40);
  same(t, ts, enumMembers(read('native/init/plan.h'), 'PlanTag'), (n) => n.replace(/^k/, ''));
});

test('sync frame types: sync.ts and sync.h agree', (t) => {
  same(t, enumMembers(read('src/runtime/sync.ts'), 'FrameType'), enumMembers(read('native/init/sync.h'), 'FrameType'), (n) => n.replace(/^k(.*)Frame$/, '$1'));
});

test('attach frames: attach.ts and attach.h agree, both ways', (t) => {
  const ts = read('src/cri/monitor/attach.ts');
  const cc = read('native/monitor/attach.h');
  same(t, enumMembers(ts, 'OutputFrame'), enumMembers(cc, 'FrameKind'), (n) => n.replace(/^kFrame/, ''));
  same(t, enumMembers(ts, 'InputFrame'), enumMembers(cc, 'InputKind'), (n) => n.replace(/^kInput/, ''));
});

test('control commands: what control.ts sends is what control.h documents', (t) => {
  const documented = [...read('native/monitor/control.h').matchAll(/^\/\/ {3}([a-z]+)\b/gm)].map((m) => m[1]).sort();
  const sent = [...read('src/cri/monitor/control.ts').matchAll(/command\(dir, [`'"]([a-z]+)/g)].map((m) => m[1]).sort();
  t.deepEqual(sent, documented);
  const handled = read('native/monitor/control.cc');
  for (const c of documented) t.true(handled.includes(`"${c}`), `control.cc handles ${c}`);
});

test('one byte order: every format says little-endian on both sides, and no side reads or writes big-endian', (t) => {
  for (const f of ['native/init/plan.h', 'native/init/sync.h', 'native/monitor/attach.h', 'src/cri/monitor/attach.ts'])
    t.regex(read(f), /little-endian|\bLE\b/, f);
  for (const f of ['src/oci/plan-encode.ts', 'src/runtime/sync.ts', 'src/cri/monitor/attach.ts']) t.notRegex(read(f), /(read|write)U?Int(16|32)BE/, f);
  t.notRegex(read('native/monitor/attach.cc'), /Be32|htonl|ntohl|htons|ntohs/);
});
