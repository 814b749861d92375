// Unpacked layers under <store>/layers/sha256/<diffID hex>: each layer unpacked once, into a
// temporary directory renamed into place when complete; a failed unpack leaves nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { TsrunError } from '../../common/errors';
import { ensureDir, PASSAGE, PRIVATE } from '../../common/private-dir';
import { compressionOf, decompress } from '../unpack/decompress';
import { unpackLayer, type UnpackResult } from '../unpack/unpack-layer';
import { digestHex } from './content-store';

export class LayerStore {
  constructor(readonly root: string) {}

  dir(diffId: string): string {
    return path.join(this.root, 'layers', 'sha256', digestHex(diffId));
  }

  has(diffId: string): boolean {
    return fs.existsSync(this.dir(diffId));
  }

  /**
   * Unpacks a (compressed) layer blob. `expectedDiffId` comes from the image config: a layer
   * whose uncompressed content does not match it is rejected.
   */
  async unpack(blob: Readable, mediaType: string, expectedDiffId?: string, maxBytes?: number): Promise<UnpackResult> {
    if (expectedDiffId && this.has(expectedDiffId)) {
      blob.destroy();
      return { diffId: expectedDiffId, entries: 0, whiteouts: 0 };
    }
    ensureDir(this.root, PASSAGE);
    ensureDir(path.join(this.root, 'layers'), PRIVATE);
    const base = ensureDir(path.join(this.root, 'layers', 'sha256'), PRIVATE);
    const tmp = fs.mkdtempSync(path.join(base, '.unpack-'));
    fs.chmodSync(tmp, 0o755);
    try {
      const result = await unpackLayer(decompress(blob, compressionOf(mediaType)), tmp, maxBytes);
      if (expectedDiffId && result.diffId !== expectedDiffId)
        throw new TsrunError('TSRUN_E_DIGEST', `layer content hashes to ${result.diffId}, but the image config says ${expectedDiffId}`);
      if (this.has(result.diffId)) fs.rmSync(tmp, { recursive: true, force: true });
      else fs.renameSync(tmp, this.dir(result.diffId));
      return result;
    } catch (e) {
      blob.destroy();
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  remove(diffId: string): void {
    fs.rmSync(this.dir(diffId), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return fs
        .readdirSync(path.join(this.root, 'layers', 'sha256'))
        .filter((n) => !n.startsWith('.'))
        .map((h) => `sha256:${h}`);
    } catch {
      return [];
    }
  }
}
