// Jazzer.js target: a layer as `tsrun pull` unpacks it, into a scratch directory. Input starting
// with gzip's magic goes through the gunzip stream first (bad deflate data, bombs), else it is
// the tar stream itself. After each input: the layer either unpacked or was refused with a
// TSRUN_E_LAYER, and nothing exists or changed outside its directory. The runner makes every
// mount but the scratch tmpfs read-only, so a write that escaped further fails with EROFS:
// that, too, is an escape.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { decompress } from '../../src/image/unpack/decompress';
import { unpackLayer } from '../../src/image/unpack/unpack-layer';
import { Finding, refusal, scratchDir } from '../oracle';

const SCRATCH = scratchDir();
const LAYER = path.join(SCRATCH, 'layer');
const CANARY = path.join(SCRATCH, 'canary');
const CANARY_TEXT = 'outside the layer\n';
/** Small enough that the scratch tmpfs never fills; the runner gives it 256 MiB. */
const MAX_BYTES = 32 << 20;

function escaped(): string | undefined {
  const here = fs.readdirSync(SCRATCH).sort();
  if (here.join(',') !== 'canary,layer') return `the scratch dir holds ${JSON.stringify(here)}`;
  const canary = fs.lstatSync(CANARY);
  if (!canary.isFile() || fs.readFileSync(CANARY, 'utf8') !== CANARY_TEXT) return 'the canary beside the layer changed';
  return undefined;
}

export async function fuzz(data: Buffer): Promise<void> {
  fs.rmSync(LAYER, { recursive: true, force: true });
  fs.rmSync(CANARY, { force: true });
  fs.mkdirSync(LAYER);
  fs.writeFileSync(CANARY, CANARY_TEXT);
  const gzip = data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
  let refused: unknown;
  try {
    await unpackLayer(decompress(Readable.from([data]), gzip ? 'gzip' : 'none'), LAYER, MAX_BYTES);
  } catch (e) {
    refused = e;
  }
  // An escape is the finding whatever the unpacker said; then a write outside the scratch dir.
  const where = escaped();
  if (where) throw new Finding(`a layer wrote outside its directory: ${where}`);
  if (refused === undefined) return;
  if (/EROFS/.test(String((refused as Error).message))) throw new Finding(`a write left the scratch dir: ${(refused as Error).message}`);
  refusal(refused);
}
