// One layer tar -> one directory, ready to be an overlay lower dir:
//   whiteouts (.wh.NAME) become overlay whiteouts (0:0 char devices), opaque markers
//   (.wh..wh..opq) become the trusted.overlay.opaque xattr; owners, modes, mtimes, xattrs
//   (security.capability too), hardlinks, symlinks, fifos and device nodes are kept.
// No entry may land outside the directory: absolute names, "..", a parent that is a symlink,
// or a hardlink to outside reject the whole layer.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { TsrunError } from '../../common/errors';
import { lsetxattr, mkfifo, mknod } from '../../sys/native';
import { endedEarly } from './decompress';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const WH_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';
const AUFS_META = '.wh..wh.';

export interface UnpackResult {
  /** sha256 of the uncompressed tar: the layer's diff ID */
  diffId: string;
  entries: number;
  whiteouts: number;
}

/** The header fields tar-stream gives (its own typings omit pax). */
interface TarHeader {
  name: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string | null;
  type?: string | null;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string> | null;
}

function layerError(msg: string): TsrunError {
  return new TsrunError('TSRUN_E_LAYER', msg);
}

/** "./a/b/" -> ["a","b"]; rejects absolute names and "..". */
export function safeParts(name: string, what = 'entry'): string[] {
  // "/" alone is the layer's root (umoci writes it so); any other absolute name is refused.
  if (name.startsWith('/') && name.replace(/[/.]/g, '') !== '') throw layerError(`layer ${what} ${JSON.stringify(name)} is an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw layerError(`layer ${what} ${JSON.stringify(name)} climbs out with ".."`);
  return parts;
}

/**
 * The name a whiteout ".wh.NAME" hides. What is left after the prefix must be one plain name:
 * ".wh..." would hide "..", the layer directory's parent, and ".wh." the layer directory itself.
 */
function whiteoutTarget(base: string, name: string): string {
  const hidden = base.slice(WH_PREFIX.length);
  if (hidden === '' || hidden === '.' || hidden === '..' || hidden.includes('/') || hidden.includes('\0'))
    throw layerError(`layer whiteout ${JSON.stringify(name)} does not name a file to hide (it leaves ${JSON.stringify(hidden)})`);
  return hidden;
}

/**
 * What one unpack knows about its own tree: the directories it has made or checked (no
 * symlink among them), so an entry's parents are looked at once per layer, not once per
 * entry. Anything the layer removes is forgotten with everything under it.
 */
class Tree {
  private readonly dirs = new Set<string>();
  constructor(readonly root: string) {}

  /**
   * The parent directory of an entry, refusing to pass through a symlink (which could point
   * out). With `create`, missing parents are made; without, a missing one is undefined.
   */
  parentDir(parts: string[], name: string, create = true): string | undefined {
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      dir = dir + '/' + parts[i]!;
      if (this.dirs.has(dir)) continue;
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(dir);
      } catch {
        if (!create) return undefined;
        fs.mkdirSync(dir, { mode: 0o755 });
        this.dirs.add(dir);
        continue;
      }
      if (st.isSymbolicLink())
        throw layerError(`layer entry ${JSON.stringify(name)} goes through the symlink ${JSON.stringify(path.relative(this.root, dir))}`);
      if (!st.isDirectory()) throw layerError(`layer entry ${JSON.stringify(name)}: ${JSON.stringify(path.relative(this.root, dir))} is not a directory`);
      this.dirs.add(dir);
    }
    return dir;
  }

  /** Removes what is at `target` (a directory too, unless `keepDir`); true if it is gone. */
  remove(target: string, keepDir: boolean): boolean {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch {
      return true;
    }
    if (st.isDirectory() && keepDir) return false;
    fs.rmSync(target, { recursive: true, force: true });
    this.forget(target);
    return true;
  }

  made(dir: string): void {
    this.dirs.add(dir);
  }

  private forget(target: string): void {
    // Every cached directory's parents are cached: if target is not, nothing under it is.
    if (!this.dirs.delete(target)) return;
    const under = target + '/';
    for (const d of this.dirs) if (d.startsWith(under)) this.dirs.delete(d);
  }
}

const isExists = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'EEXIST';

/** Runs `make`; if something is already at `target`, removes it and runs `make` again. */
function replacing<T>(tree: Tree, target: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (!isExists(e)) throw e;
    tree.remove(target, false);
    return make();
  }
}

const FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** A regular file, with its owner, mode and times set through its fd (no second path walk). */
async function writeFile(tree: Tree, target: string, stream: Readable, h: TarHeader): Promise<void> {
  const fd = replacing(tree, target, () => fs.openSync(target, FILE_FLAGS, 0o600));
  try {
    for await (const chunk of stream) fs.writeSync(fd, chunk as Buffer);
    fs.fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
    // chown clears setuid bits: the mode goes after it.
    fs.fchmodSync(fd, (h.mode ?? 0o644) & 0o7777);
    const mtime = h.mtime ?? EPOCH;
    fs.futimesSync(fd, mtime, mtime);
  } finally {
    fs.closeSync(fd);
  }
  setXattrs(target, h);
}

const EPOCH = new Date(0);

function setXattrs(target: string, h: TarHeader): void {
  if (!h.pax) return;
  for (const [key, value] of Object.entries(h.pax))
    if (key.startsWith('SCHILY.xattr.')) lsetxattr(target, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1'));
}

function applyMetadata(target: string, h: TarHeader, isLink: boolean): void {
  fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
  // chown clears setuid bits: the mode goes after it. Symlinks have no mode of their own.
  if (!isLink) fs.chmodSync(target, (h.mode ?? 0o644) & 0o7777);
  setXattrs(target, h);
  const mtime = h.mtime ?? EPOCH;
  fs.lutimesSync(target, mtime, mtime);
}

/**
 * Unpacks an uncompressed tar stream into `dest` (which must exist and be empty); a stream
 * longer than `maxBytes` (a decompression bomb) is refused there.
 */
export async function unpackLayer(tarStream: Readable, dest: string, maxBytes = Infinity): Promise<UnpackResult> {
  const hash = createHash('sha256');
  let total = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      total += chunk.length;
      if (total > maxBytes)
        return cb(layerError(`layer unpacks to more than ${maxBytes} bytes, its bound (a decompression bomb?): $TSRUN_MAX_UNPACK_RATIO raises it`));
      cb(null, chunk);
    },
    // Some writers (umoci among them) end a layer without padding its last entry or without
    // the end-of-archive blocks; GNU tar and Go's archive/tar accept that, so do we. The
    // zeros are not part of the diff ID.
    flush(cb) {
      cb(null, Buffer.alloc(((512 - (total % 512)) % 512) + 1024));
    },
  });
  const extract = tar.extract();
  tarStream.on('error', (e) => extract.destroy(e));
  tarStream.on('close', () => {
    if (!tarStream.readableEnded) extract.destroy(endedEarly());
  });
  tee.on('error', (e) => extract.destroy(e));
  tarStream.pipe(tee).pipe(extract);
  const dirTimes: [string, Date][] = [];
  const tree = new Tree(dest);
  const counts = { entries: 0, whiteouts: 0 };
  const entriesOf = extract[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await entriesOf.next();
      } catch (e) {
        // tar-stream's and zlib's words for a stream that is not a (compressed) tar.
        throw asLayerError(
          e,
          (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? "the layer's compressed stream is corrupt" : 'the layer is not a valid tar stream',
        );
      }
      if (next.done) break;
      const entry = next.value as Readable;
      const h = (next.value as { header: TarHeader }).header;
      try {
        await unpackEntry(tree, entry, h, dest, dirTimes, counts);
      } catch (e) {
        entry.resume();
        throw asLayerError(e, `layer entry ${JSON.stringify(h.name)}`);
      }
      entry.resume();
    }
    done = true;
  } finally {
    if (!done) {
      // A refused layer stops what feeds the parser (the decompressor, the download's tap) here.
      tarStream.destroy();
      tee.destroy();
      await entriesOf.return?.().catch(() => undefined);
    }
  }
  // Directory times last: every entry written inside one changed its mtime.
  for (const [d, t] of dirTimes.reverse()) fs.lutimesSync(d, t, t);
  return { diffId: 'sha256:' + hash.digest('hex'), entries: counts.entries, whiteouts: counts.whiteouts };
}

/** A refusal stays as worded; anything else (an errno from the filesystem, a parser's error) is named. */
function asLayerError(e: unknown, what: string): TsrunError {
  if (e instanceof TsrunError) return e;
  return new TsrunError('TSRUN_E_LAYER', `${what}: ${(e as Error).message ?? String(e)}`, (e as { errno?: number }).errno);
}

async function unpackEntry(
  tree: Tree,
  entry: Readable,
  h: TarHeader,
  dest: string,
  dirTimes: [string, Date][],
  counts: { entries: number; whiteouts: number },
): Promise<void> {
  const parts = safeParts(h.name);
  counts.entries++;
  if (parts.length === 0) {
    // "./": the layer's root directory itself.
    if (h.type === 'directory') dirTimes.push([dest, h.mtime ?? EPOCH]);
    return;
  }
  const base = parts[parts.length - 1]!;
  if (base !== OPAQUE && parts.some((p) => p.startsWith(AUFS_META))) {
    // aufs metadata (".wh..wh.plnk/..." and the like) is no content; docker and containerd skip it.
    return;
  }
  const dir = tree.parentDir(parts, h.name)!;
  if (base === OPAQUE) {
    lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
    counts.whiteouts++;
    return;
  }
  if (base.startsWith(WH_PREFIX)) {
    const hidden = dir + '/' + whiteoutTarget(base, h.name);
    tree.remove(hidden, false);
    mknod(hidden, S_IFCHR, 0, 0);
    counts.whiteouts++;
    return;
  }
  const target = dir + '/' + base;
  switch (h.type) {
    case 'directory':
      try {
        fs.mkdirSync(target, { mode: 0o755 });
      } catch (e) {
        if (!isExists(e)) throw e;
        if (tree.remove(target, true)) fs.mkdirSync(target, { mode: 0o755 });
      }
      tree.made(target);
      applyMetadata(target, h, false);
      dirTimes.push([target, h.mtime ?? EPOCH]);
      break;
    case 'file':
    case 'contiguous-file':
      await writeFile(tree, target, entry, h);
      break;
    case 'symlink':
      replacing(tree, target, () => fs.symlinkSync(h.linkname ?? '', target));
      applyMetadata(target, h, true);
      break;
    case 'link': {
      const linkParts = safeParts(h.linkname ?? '', 'hardlink target');
      const linkDir = linkParts.length ? tree.parentDir(linkParts, h.linkname ?? '', false) : undefined;
      const source = linkDir === undefined ? '' : linkDir + '/' + linkParts[linkParts.length - 1]!;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(source);
      } catch {
        throw layerError(`layer hardlink ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not in the layer`);
      }
      if (st.isDirectory()) throw layerError(`layer hardlink ${JSON.stringify(h.name)} points to a directory`);
      replacing(tree, target, () => fs.linkSync(source, target));
      break;
    }
    case 'character-device':
    case 'block-device':
      replacing(tree, target, () =>
        mknod(target, (h.type === 'block-device' ? S_IFBLK : S_IFCHR) | ((h.mode ?? 0o600) & 0o7777), h.devmajor ?? 0, h.devminor ?? 0),
      );
      applyMetadata(target, h, false);
      break;
    case 'fifo':
      replacing(tree, target, () => mkfifo(target, (h.mode ?? 0o600) & 0o7777));
      applyMetadata(target, h, false);
      break;
    default:
      // pax headers are consumed by tar-stream; anything else is not filesystem content.
      break;
  }
}
