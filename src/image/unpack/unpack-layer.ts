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
 * The parent directory of an entry, refusing to pass through a symlink (which could point
 * out). With `create`, missing parents are made; without, a missing one is undefined.
 */
function parentDir(root: string, parts: string[], name: string, create = true): string | undefined {
  let dir = root;
  for (const p of parts.slice(0, -1)) {
    dir = path.join(dir, p);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(dir);
    } catch {
      if (!create) return undefined;
      fs.mkdirSync(dir, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw layerError(`layer entry ${JSON.stringify(name)} goes through the symlink ${JSON.stringify(path.relative(root, dir))}`);
    if (!st.isDirectory()) throw layerError(`layer entry ${JSON.stringify(name)}: ${JSON.stringify(path.relative(root, dir))} is not a directory`);
  }
  return dir;
}

function removeExisting(target: string, keepDir: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return;
  }
  if (st.isDirectory() && keepDir) return;
  fs.rmSync(target, { recursive: true, force: true });
}

async function writeFile(target: string, stream: Readable, mode: number): Promise<void> {
  const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode & 0o7777);
  try {
    for await (const chunk of stream) fs.writeSync(fd, chunk as Buffer);
  } finally {
    fs.closeSync(fd);
  }
}

function applyMetadata(target: string, h: TarHeader, isLink: boolean): void {
  fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
  // chown clears setuid bits: the mode goes after it. Symlinks have no mode of their own.
  if (!isLink) fs.chmodSync(target, (h.mode ?? 0o644) & 0o7777);
  for (const [key, value] of Object.entries(h.pax ?? {}))
    if (key.startsWith('SCHILY.xattr.')) lsetxattr(target, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1'));
  const mtime = h.mtime ?? new Date(0);
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
      if (total > maxBytes) return cb(layerError(`layer unpacks to more than ${maxBytes} bytes, its bound (a decompression bomb?): $TSRUN_MAX_UNPACK_RATIO raises it`));
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
  tee.on('error', (e) => extract.destroy(e));
  tarStream.pipe(tee).pipe(extract);
  const dirTimes: [string, Date][] = [];
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
        throw asLayerError(e, (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? 'the layer\'s compressed stream is corrupt' : 'the layer is not a valid tar stream');
      }
      if (next.done) break;
      const entry = next.value as Readable;
      const h = (next.value as { header: TarHeader }).header;
      try {
        await unpackEntry(entry, h, dest, dirTimes, counts);
      } catch (e) {
        entry.resume();
        throw asLayerError(e, `layer entry ${JSON.stringify(h.name)}`);
      }
      entry.resume();
    }
    done = true;
  } finally {
    // A refused layer stops its stream (and the decompressor behind it) here.
    if (!done) await entriesOf.return?.().catch(() => undefined);
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

async function unpackEntry(entry: Readable, h: TarHeader, dest: string, dirTimes: [string, Date][], counts: { entries: number; whiteouts: number }): Promise<void> {
  const parts = safeParts(h.name);
  counts.entries++;
  if (parts.length === 0) {
    // "./": the layer's root directory itself.
    if (h.type === 'directory') dirTimes.push([dest, h.mtime ?? new Date(0)]);
    return;
  }
  const base = parts[parts.length - 1]!;
  if (base !== OPAQUE && parts.some((p) => p.startsWith(AUFS_META))) {
    // aufs metadata (".wh..wh.plnk/..." and the like) is no content; docker and containerd skip it.
    return;
  }
  const dir = parentDir(dest, parts, h.name)!;
  if (base === OPAQUE) {
    lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
    counts.whiteouts++;
    return;
  }
  if (base.startsWith(WH_PREFIX)) {
    const hidden = path.join(dir, whiteoutTarget(base, h.name));
    removeExisting(hidden, false);
    mknod(hidden, S_IFCHR, 0, 0);
    counts.whiteouts++;
    return;
  }
  const target = path.join(dir, base);
  switch (h.type) {
    case 'directory':
      removeExisting(target, true);
      if (!fs.existsSync(target)) fs.mkdirSync(target, { mode: 0o755 });
      applyMetadata(target, h, false);
      dirTimes.push([target, h.mtime ?? new Date(0)]);
      break;
    case 'file':
    case 'contiguous-file':
      removeExisting(target, false);
      await writeFile(target, entry, h.mode ?? 0o644);
      applyMetadata(target, h, false);
      break;
    case 'symlink':
      removeExisting(target, false);
      fs.symlinkSync(h.linkname ?? '', target);
      applyMetadata(target, h, true);
      break;
    case 'link': {
      const linkParts = safeParts(h.linkname ?? '', 'hardlink target');
      const linkDir = linkParts.length ? parentDir(dest, linkParts, h.linkname ?? '', false) : undefined;
      const source = linkDir === undefined ? '' : path.join(linkDir, linkParts[linkParts.length - 1]!);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(source);
      } catch {
        throw layerError(`layer hardlink ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not in the layer`);
      }
      if (st.isDirectory()) throw layerError(`layer hardlink ${JSON.stringify(h.name)} points to a directory`);
      removeExisting(target, false);
      fs.linkSync(source, target);
      break;
    }
    case 'character-device':
    case 'block-device':
      removeExisting(target, false);
      mknod(target, (h.type === 'block-device' ? S_IFBLK : S_IFCHR) | ((h.mode ?? 0o600) & 0o7777), h.devmajor ?? 0, h.devminor ?? 0);
      applyMetadata(target, h, false);
      break;
    case 'fifo':
      removeExisting(target, false);
      mkfifo(target, (h.mode ?? 0o600) & 0o7777);
      applyMetadata(target, h, false);
      break;
    default:
      // pax headers are consumed by tar-stream; anything else is not filesystem content.
      break;
  }
}
