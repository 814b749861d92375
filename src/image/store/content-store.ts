// Content-addressed blobs under <store>/blobs/sha256/<hex>. Data is streamed into
// <store>/ingest/, hashed on the way, and renamed into place only if digest and size match:
// a blob that is visible is always whole and verified. A partial download is kept so an
// interrupted pull resumes where it stopped.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { TsrunError } from '../../common/errors';
import { ensureDir, PASSAGE, PRIVATE } from '../../common/private-dir';

const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;

export function digestHex(digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new TsrunError('TSRUN_E_DIGEST', `unsupported digest ${JSON.stringify(digest)} (tsrun verifies sha256)`);
  return m[1]!;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export class ContentStore {
  constructor(readonly root: string) {}

  blobPath(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  /** Where a partial download of `digest` lives; its size is where a resume starts. */
  partialPath(digest: string): string {
    return path.join(this.root, 'ingest', `${digestHex(digest)}.partial`);
  }

  partialSize(digest: string): number {
    try {
      return fs.statSync(this.partialPath(digest)).size;
    } catch {
      return 0;
    }
  }

  /**
   * Streams `chunks` into the store as `digest`. With `resume`, appends to a partial download
   * (whose bytes are hashed first). On a mismatch nothing stays behind.
   *
   * `tap`, if given, gets every byte of the blob as it arrives (the resumed part first), so a
   * layer is unpacked while it downloads instead of being read back; it is ended only once the
   * blob is whole and verified, and destroyed with the error otherwise. A tap that goes away
   * (its unpack failed) does not stop the download: the blob is still verified and stored.
   */
  async ingest(
    digest: string,
    size: number | undefined,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    resume = false,
    tap?: Writable,
  ): Promise<void> {
    try {
      await this.ingestInto(digest, size, chunks, resume, tap);
    } catch (e) {
      tap?.destroy(e as Error);
      throw e;
    }
    tap?.end();
  }

  private async ingestInto(
    digest: string,
    size: number | undefined,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    resume: boolean,
    tap: Writable | undefined,
  ): Promise<void> {
    if (this.has(digest)) {
      if (tap) for await (const c of fs.createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 })) await feed(tap, c as Buffer);
      return;
    }
    ensureDir(this.root, PASSAGE);
    ensureDir(path.join(this.root, 'ingest'), PRIVATE);
    ensureDir(path.join(this.root, 'blobs'), PRIVATE);
    ensureDir(path.join(this.root, 'blobs', 'sha256'), PRIVATE);
    const partial = this.partialPath(digest);
    const hash: Hash = createHash('sha256');
    let written = 0;
    if (resume && fs.existsSync(partial)) {
      for await (const c of fs.createReadStream(partial, { highWaterMark: 1 << 20 })) {
        hash.update(c as Buffer);
        written += (c as Buffer).length;
        await feed(tap, c as Buffer);
      }
    } else fs.rmSync(partial, { force: true });
    const fd = fs.openSync(partial, 'a', 0o644);
    try {
      for await (const c of chunks) {
        hash.update(c);
        fs.writeSync(fd, c);
        written += c.length;
        if (size !== undefined && written > size) throw new TsrunError('TSRUN_E_DIGEST', `blob ${digest}: more data than its declared size ${size}`);
        await feed(tap, c);
      }
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      // Keep what arrived for a resume, unless it is already known to be wrong.
      if (e instanceof TsrunError) fs.rmSync(partial, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    const got = 'sha256:' + hash.digest('hex');
    if (size !== undefined && written !== size) {
      if (written > size) fs.rmSync(partial, { force: true });
      throw new TsrunError('TSRUN_E_DIGEST', `blob ${digest}: got ${written} bytes, expected ${size} (truncated download?)`);
    }
    if (got !== digest) {
      fs.rmSync(partial, { force: true });
      throw new TsrunError('TSRUN_E_DIGEST', `blob ${digest}: content hashes to ${got}`);
    }
    fs.renameSync(partial, this.blobPath(digest));
  }

  /** Stores bytes already in memory (manifests, configs). */
  async put(digest: string, data: Buffer): Promise<void> {
    await this.ingest(
      digest,
      data.length,
      (async function* () {
        yield data;
      })(),
    );
  }

  read(digest: string): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch {
      throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `blob ${digest} is not in the store`);
    }
  }

  list(): string[] {
    try {
      return fs.readdirSync(path.join(this.root, 'blobs', 'sha256')).map((h) => `sha256:${h}`);
    } catch {
      return [];
    }
  }

  delete(digest: string): void {
    fs.rmSync(this.blobPath(digest), { force: true });
  }
}

/** Writes a chunk to a tap, waiting while it is full; a tap that is gone is skipped. */
async function feed(tap: Writable | undefined, chunk: Uint8Array): Promise<void> {
  if (!tap || tap.destroyed || tap.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      tap.off('drain', done);
      tap.off('close', done);
      resolve();
    };
    tap.on('drain', done);
    tap.on('close', done);
  });
}
