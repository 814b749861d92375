// Registry documents as they arrive: an index, a manifest, an image config are bytes from a
// registry that is not trusted to be sane. Each is parsed and checked here before anything acts
// on it, and every refusal is a TSRUN_E_REGISTRY naming the image and the document.
import { ImageConfig, ImageIndex, ImageManifest, INDEX_TYPES, type Descriptor } from '../../specs/oci/image';
import { TsrunError } from '../common/errors';
import { schemaProblem, type SchemaIssue } from '../common/json-path';
import { formatPlatform, parsePlatform, selectManifest } from './platform';

/** An image config is a few KiB; one declared larger than this is refused before it is fetched. */
export const MAX_CONFIG_BYTES = 8 << 20;

type Schema<T> = { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: SchemaIssue[] } } };

export function parseDocument<T>(body: Buffer, schema: Schema<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new TsrunError('TSRUN_E_REGISTRY', `${what}: not valid JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new TsrunError('TSRUN_E_REGISTRY', `${what}: ${schemaProblem(r.error)}`);
  return r.data;
}

/** An index by its media type, or (a registry that does not say) by having a manifests list. */
export function isIndexDocument(body: Buffer, mediaType: string): boolean {
  if (INDEX_TYPES.includes(mediaType)) return true;
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && Array.isArray((doc as { manifests?: unknown }).manifests);
  } catch {
    return false;
  }
}

/** The index's manifest for `platform` (default: this host's). */
export function selectFromIndex(body: Buffer, name: string, platform: string | undefined): Descriptor {
  const index = parseDocument(body, ImageIndex, `${name}: index`);
  const want = parsePlatform(platform);
  const desc = selectManifest(index.manifests, want);
  if (!desc)
    throw new TsrunError(
      'TSRUN_E_REGISTRY',
      `${name}: no manifest for platform ${formatPlatform(want)} (has: ${index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ')})`,
    );
  return desc;
}

export function parseManifest(body: Buffer, name: string): ImageManifest {
  const manifest = parseDocument(body, ImageManifest, `${name}: manifest`);
  if (manifest.config.size > MAX_CONFIG_BYTES)
    throw new TsrunError('TSRUN_E_REGISTRY', `${name}: the image config is declared as ${manifest.config.size} bytes, more than ${MAX_CONFIG_BYTES >> 20} MiB`);
  return manifest;
}

/** The image config, which must give one diff ID per layer of the manifest. */
export function parseImageConfig(body: Buffer, manifest: ImageManifest, name: string): ImageConfig {
  const config = parseDocument(body, ImageConfig, `${name}: image config`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length)
    throw new TsrunError(
      'TSRUN_E_REGISTRY',
      `${name}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} diff IDs`,
    );
  return config;
}
