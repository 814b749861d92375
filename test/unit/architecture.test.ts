// Imports point down only: cli -> cri -> runtime -> core modules -> sys -> common. The CRI
// server uses the runtime as a library (one config model, one plan compiler, no CLI in between).
// A module may import its own folder, any lower layer and specs/; never a higher layer.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', '..', 'src');
const LAYER: Record<string, number> = {
  common: 0,
  sys: 1,
  events: 1,
  oci: 2,
  cgroups: 2,
  image: 2,
  rootfs: 2,
  runtime: 3,
  cri: 4,
  cli: 5,
};

function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('no module imports a layer above its own, and the addon is loaded only by src/sys', (t) => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = path.relative(SRC, file).split(path.sep)[0]!;
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|require\()\s*'(\.[^']+)'/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
      if (target === from || target.startsWith('..')) continue;
      if (LAYER[from] === undefined || LAYER[target] === undefined) violations.push(`${file}: unknown layer ${from} or ${target}`);
      else if (LAYER[target]! >= LAYER[from]!) violations.push(`${path.relative(SRC, file)} imports ${m[1]} (${target} is not below ${from})`);
    }
    if (from !== 'sys' && /\.node['"]/.test(text)) violations.push(`${file} loads a .node addon`);
  }
  t.deepEqual(violations, []);
});
