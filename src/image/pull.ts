// pull: reference -> manifest (through an index, for the wanted platform) -> config -> each
// missing layer streamed at once into the content store (digest verified on the way,
// resuming partial downloads) and into its unpack, a few layers at a time -> the image record.
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Descriptor } from '../../specs/oci/image';
import { TsrunError } from '../common/errors';
import { KeyedMutex } from '../common/keyed-mutex';
import { emit } from '../events/bus';
import { isIndexDocument, parseImageConfig, parseManifest, selectFromIndex } from './documents';
import { formatPlatform, parsePlatform } from './platform';
import { formatReference, parseReference } from './reference';
import { RegistryClient, type RegistryOptions } from './registry/client';
import { ContentStore, sha256 } from './store/content-store';
import { ImageStore, type ImageRecord } from './store/image-store';
import { LayerStore } from './store/layer-store';

/**
 * A layer may unpack to at most this many times its compressed size (and at least 64 MiB):
 * real layers compress 2-20 fold, a gzip bomb a thousand fold. $TSRUN_MAX_UNPACK_RATIO sets it,
 * and $TSRUN_REGISTRY_TIMEOUT_MS the registry's idle limit (30 s).
 */
const DEFAULT_UNPACK_RATIO = 100;
const MIN_UNPACK_BYTES = 64 << 20;

export interface PullOptions extends RegistryOptions {
  store: string;
  /** a layer unpacks to at most this times its compressed size */
  maxUnpackRatio?: number;
  platform?: string;
  /** layers downloaded (and unpacked as they arrive) at once */
  concurrency?: number;
  /** what a progress display needs: the layers, their bytes as they arrive, each one done */
  progress?: (p: PullProgress) => void;
}

/** A pull as it goes, for a progress display (the CLI's bars, or its summary line). */
export type PullProgress =
  /** the layers of the image, once the manifest is read; `present`: already unpacked in the store */
  | { kind: 'layers'; layers: { digest: string; size: number; present: boolean }[] }
  /** bytes of a layer received so far (a resumed download starts at its offset) */
  | { kind: 'bytes'; digest: string; received: number; size: number }
  | { kind: 'fetched'; digest: string; size: number; resumedAt: number }
  | { kind: 'unpacked'; digest: string; entries: number };

// Pulls running at once in one process (the CRI server, for a kubelet that pulls in parallel)
// share blobs and layers: each blob is fetched, and each layer unpacked, by one of them at a
// time (the blob's partial download is one file), and the others then find it in the store.
const blobFetches = new KeyedMutex();
const layerUnpacks = new KeyedMutex();

async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  });
  await Promise.all(workers);
}

export async function pullImage(ref: string, opts: PullOptions): Promise<ImageRecord> {
  const r = parseReference(ref);
  const name = formatReference(r);
  const envTimeout = Number(process.env['TSRUN_REGISTRY_TIMEOUT_MS']);
  const client = new RegistryClient(r.registry, r.repository, { ...opts, timeoutMs: opts.timeoutMs ?? (envTimeout > 0 ? envTimeout : undefined) });
  const envRatio = Number(process.env['TSRUN_MAX_UNPACK_RATIO']);
  const ratio = opts.maxUnpackRatio ?? (envRatio > 0 ? envRatio : DEFAULT_UNPACK_RATIO);
  const content = new ContentStore(opts.store);
  const layers = new LayerStore(opts.store);
  const images = new ImageStore(opts.store);
  const report = opts.progress ?? (() => {});

  const t0 = process.hrtime.bigint();
  const top = await client.manifest(r.digest ?? r.tag!);
  const topDigest = sha256(top.body);
  if (r.digest && topDigest !== r.digest) throw new TsrunError('TSRUN_E_DIGEST', `${name}: the registry's manifest hashes to ${topDigest}, not ${r.digest}`);
  if (top.digestHeader && top.digestHeader !== topDigest)
    throw new TsrunError('TSRUN_E_DIGEST', `${name}: manifest hashes to ${topDigest} but the registry says ${top.digestHeader}`);
  emit('image_resolved', `${name} -> ${topDigest} (${top.mediaType})`, Number((process.hrtime.bigint() - t0) / 1000n));

  let manifestBody = top.body;
  let manifestDigest = topDigest;
  let indexDigest: string | undefined;
  if (isIndexDocument(top.body, top.mediaType)) {
    const want = parsePlatform(opts.platform);
    const desc = selectFromIndex(top.body, name, opts.platform);
    emit('platform_selected', `${formatPlatform(want)} -> ${desc.digest}`);
    const child = await client.manifest(desc.digest);
    if (sha256(child.body) !== desc.digest)
      throw new TsrunError('TSRUN_E_DIGEST', `${name}: the manifest for ${formatPlatform(want)} hashes to ${sha256(child.body)}, not ${desc.digest}`);
    indexDigest = topDigest;
    manifestBody = child.body;
    manifestDigest = desc.digest;
  }
  const manifest = parseManifest(manifestBody, name);

  /** Downloads a blob into the store, one pull at a time per blob; `tap` gets its bytes as they arrive (see ingest). */
  const fetchBlob = (d: Descriptor, tap?: PassThrough): Promise<void> => blobFetches.run(content.blobPath(d.digest), () => fetchBlobAlone(d, tap));
  const fetchBlobAlone = async (d: Descriptor, tap?: PassThrough): Promise<void> => {
    if (content.has(d.digest)) {
      // Stored meanwhile (another pull of the same blob): the tap reads it from the store.
      if (tap) await content.ingest(d.digest, d.size, [], false, tap);
      return;
    }
    const t = process.hrtime.bigint();
    const offset = content.partialSize(d.digest);
    let got: { stream: import('node:stream').Readable; resumed: boolean };
    try {
      try {
        got = await client.blob(d.digest, offset);
      } catch (e) {
        // A foreign (non-distributable) layer lives at its URLs, as containerd fetches it.
        if (!d.urls?.length) throw e;
        got = { stream: await client.blobFromUrls(d.urls, d.digest), resumed: false };
      }
    } catch (e) {
      tap?.destroy(e as Error);
      throw e;
    }
    const { stream, resumed } = got;
    let received = resumed ? offset : 0;
    const counted = async function* (): AsyncGenerator<Uint8Array> {
      for await (const c of stream as AsyncIterable<Uint8Array>) {
        received += c.length;
        report({ kind: 'bytes', digest: d.digest, received, size: d.size });
        yield c;
      }
    };
    try {
      await content.ingest(d.digest, d.size, opts.progress ? counted() : stream, resumed, tap);
    } catch (e) {
      if (e instanceof TsrunError) throw e;
      throw new TsrunError('TSRUN_E_TIMEOUT', `${name}: blob ${d.digest}: ${client.describe(e)}; what arrived is kept, and a new pull resumes there`);
    }
    emit('blob_fetched', `${d.digest} ${d.size} bytes${resumed ? ` (resumed at ${offset})` : ''}`, Number((process.hrtime.bigint() - t) / 1000n));
    report({ kind: 'fetched', digest: d.digest, size: d.size, resumedAt: resumed ? offset : 0 });
  };

  await fetchBlob(manifest.config);
  const config = parseImageConfig(content.read(manifest.config.digest), manifest, name);
  const diffIds = config.rootfs.diff_ids;
  const missing = manifest.layers.map((l, i) => ({ l, diffId: diffIds[i]! })).filter(({ diffId }) => !layers.has(diffId));
  report({
    kind: 'layers',
    layers: manifest.layers.map((l, i) => ({ digest: l.digest, size: l.size, present: !missing.some((m) => m.diffId === diffIds[i]) })),
  });
  // Each layer is unpacked while it downloads: the bytes go to the content store and to the
  // unpacker at once (no second read), a stalled unpacker holds the download back (memory
  // stays bounded), and the layer becomes visible only once both the blob's digest and the
  // layer's diff ID are checked. A blob already in the store is unpacked from there.
  // One pull at a time unpacks a given layer (the others then find it in the store).
  const fetchAndUnpack = ({ l, diffId }: { l: Descriptor; diffId: string }): Promise<void> =>
    layerUnpacks.run(layers.dir(diffId), () => fetchAndUnpackAlone(l, diffId));
  const fetchAndUnpackAlone = async (l: Descriptor, diffId: string): Promise<void> => {
    if (layers.has(diffId)) return;
    const t = process.hrtime.bigint();
    const maxBytes = Math.max(MIN_UNPACK_BYTES, l.size * ratio);
    let res: Awaited<ReturnType<LayerStore['unpack']>>;
    if (content.has(l.digest)) {
      res = await layers.unpack(fs.createReadStream(content.blobPath(l.digest), { highWaterMark: 1 << 20 }), l.mediaType, diffId, maxBytes);
    } else {
      const tap = new PassThrough({ highWaterMark: 1 << 20 });
      const [fetched, unpacked] = await Promise.allSettled([fetchBlob(l, tap), layers.unpack(tap, l.mediaType, diffId, maxBytes)]);
      // A blob that is not what its digest says explains a broken layer better than the
      // unpacker's words for it: the download's error first.
      if (fetched.status === 'rejected') throw fetched.reason;
      if (unpacked.status === 'rejected') throw unpacked.reason;
      res = unpacked.value;
    }
    emit('layer_unpacked', `${l.digest} -> ${diffId}: ${res.entries} entries, ${res.whiteouts} whiteouts`, Number((process.hrtime.bigint() - t) / 1000n));
    report({ kind: 'unpacked', digest: l.digest, entries: res.entries });
  };
  await parallel(missing, opts.concurrency ?? 3, fetchAndUnpack);
  // Under the blob's lock too: two pulls of one image write the same manifest (one ingest file).
  const putDocument = (digest: string, body: Buffer): Promise<void> => blobFetches.run(content.blobPath(digest), () => content.put(digest, body));
  await putDocument(manifestDigest, manifestBody);
  if (indexDigest) await putDocument(indexDigest, top.body);
  const record: ImageRecord = {
    name,
    digest: manifestDigest,
    indexDigest,
    config: manifest.config.digest,
    layers: manifest.layers.map((l) => l.digest),
    diffIds,
    size: manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0),
    pulled: new Date().toISOString(),
  };
  images.withLock(() => images.put(record));
  emit('image_stored', `${name} ${manifestDigest}`);
  return record;
}
