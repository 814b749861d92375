import { TsrunError } from '../common/errors';
import { collectGarbage, removeImage } from '../image/gc';
import { familiarName, parseReference } from '../image/reference';
import { ImageStore } from '../image/store/image-store';
import { bool, parseCommand, str } from './args';
import type { Globals } from './globals';
import { table } from './table';

function human(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

export function images(argv: string[], g: Globals): number {
  const { flags } = parseCommand('images', argv);
  const all = new ImageStore(g.store).all().sort((a, b) => a.name.localeCompare(b.name));
  if (bool(flags['quiet'])) process.stdout.write(all.map((r) => `${r.name}\n`).join(''));
  else if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(all) + '\n');
  else
    process.stdout.write(
      table(
        ['IMAGE', 'DIGEST', 'CONFIG', 'LAYERS', 'SIZE'],
        all.map((r) => [familiarName(parseReference(r.name)), r.digest, r.config.slice(7, 19), String(r.layers.length), human(r.size)]),
      ),
    );
  return 0;
}

export function rmi(argv: string[], g: Globals): number {
  const { args } = parseCommand('rmi', argv);
  if (!args.length) throw new TsrunError('TSRUN_E_USAGE', '"rmi" requires an image name');
  for (const a of args) {
    const rec = new ImageStore(g.store).find(a);
    if (!rec) throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `image ${a} is not in the store`);
    removeImage(g.store, rec.name);
    process.stdout.write(`removed ${familiarName(parseReference(rec.name))}\n`);
  }
  return 0;
}

export function prune(argv: string[], g: Globals): number {
  parseCommand('prune', argv);
  const r = collectGarbage(g.store);
  process.stdout.write(`removed ${r.blobs} blobs and ${r.layers} layers\n`);
  return 0;
}
