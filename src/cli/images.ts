import { TsrunError } from '../common/errors';
import { collectGarbage, removeImage, storeUsage } from '../image/gc';
import { familiarName, parseReference } from '../image/reference';
import { ImageStore } from '../image/store/image-store';
import { bool, parseCommand, str } from './args';
import type { Globals } from './globals';
import { table } from './table';
import { bytes } from './units';

export function images(argv: string[], g: Globals): number {
  const { flags } = parseCommand('images', argv);
  const all = new ImageStore(g.store).all().sort((a, b) => a.name.localeCompare(b.name));
  if (bool(flags['quiet'])) process.stdout.write(all.map((r) => `${r.name}\n`).join(''));
  else if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(all) + '\n');
  else
    process.stdout.write(
      table(
        ['IMAGE', 'DIGEST', 'CONFIG', 'LAYERS', 'SIZE'],
        all.map((r) => [familiarName(parseReference(r.name)), r.digest, r.config.slice(7, 19), String(r.layers.length), bytes(r.size)]),
      ),
    );
  return 0;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function rmi(argv: string[], g: Globals): number {
  const { args } = parseCommand('rmi', argv);
  if (!args.length) throw new TsrunError('TSRUN_E_USAGE', '"rmi" requires an image name');
  for (const a of args) {
    const rec = new ImageStore(g.store).find(a);
    if (!rec) throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `image ${a} is not in the store (\`tsrun images\` lists them)`);
    const r = removeImage(g.store, rec.name);
    // What it freed, and what of it stays and why: so that a prune after it surprises nobody.
    const stays: string[] = [];
    if (r.shared) stays.push(`${plural(r.shared, 'layer')} other images use`);
    for (const b of r.bundles) stays.push(`the layers the bundle ${b.dir} uses (tsrun bundle --remove ${b.dir}, then tsrun prune, frees them)`);
    process.stdout.write(
      `removed ${familiarName(parseReference(rec.name))}: freed ${plural(r.freed.blobs, 'blob')} and ${plural(r.freed.layers, 'layer')} (${bytes(r.freed.bytes)})` +
        `${stays.length ? `; kept ${stays.join(', and ')}` : ''}\n`,
    );
  }
  return 0;
}

export function prune(argv: string[], g: Globals): number {
  parseCommand('prune', argv);
  const r = collectGarbage(g.store);
  const u = storeUsage(g.store);
  const empty = !u.blobs && !u.layers;
  const lines = [
    r.blobs || r.layers
      ? `removed ${plural(r.blobs, 'blob')} and ${plural(r.layers, 'layer')} (${bytes(r.bytes)})`
      : `nothing to remove${empty ? ': the store is empty' : ''}`,
  ];
  // What is left, who uses it, and what would free it.
  if (!empty) {
    const users = [
      ...(u.images ? [`${plural(u.images, 'image')} (tsrun rmi IMAGE removes one)`] : []),
      ...(u.orphanBundles.length ? [plural(u.orphanBundles.length, 'bundle')] : []),
    ];
    lines.push(`kept ${plural(u.blobs, 'blob')} and ${plural(u.layers, 'layer')} (${bytes(u.bytes)}), in use by ${users.join(' and ') || 'bundles'}`);
  }
  for (const b of u.orphanBundles)
    lines.push(
      `  the bundle ${b.dir} holds layers of ${familiarName(parseReference(b.image))}, which was removed: tsrun bundle --remove ${b.dir}, then tsrun prune, frees them`,
    );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
