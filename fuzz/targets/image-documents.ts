// Jazzer.js target: what a registry sends, as `tsrun pull` and CRI PullImage read it. The same
// bytes are taken as an index (platform selection), a manifest, and an image config; a config
// that passes goes on to the config.json a bundle or a CRI container starts from (specFromImage),
// which must then validate. Every refusal is a TSRUN_E_* error; nothing else may escape.
import { ImageConfig, INDEX_TYPES } from '../../specs/oci/image';
import { isIndexDocument, parseImageConfig, parseManifest, selectFromIndex } from '../../src/image/documents';
import { parseConfig } from '../../src/oci/load-bundle';
import { specFromImage } from '../../src/oci/from-image';
import { refusal } from '../oracle';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\ntty:x:5:app\nnogroup:x:65534:\napp:x:1000:\n';
const read = (f: string): string | undefined => (f === '/etc/passwd' ? PASSWD : f === '/etc/group' ? GROUP : undefined);
const MEDIA_TYPES = ['application/vnd.oci.image.manifest.v1+json', ...INDEX_TYPES, ''];

export function fuzz(data: Buffer): void {
  for (const t of MEDIA_TYPES) isIndexDocument(data, t);
  for (const platform of [undefined, 'linux/arm64/v8', 'linux/amd64']) {
    try {
      selectFromIndex(data, 'fuzz', platform);
    } catch (e) {
      refusal(e);
    }
  }
  let manifest;
  try {
    manifest = parseManifest(data, 'fuzz');
  } catch (e) {
    refusal(e);
  }
  let config: ImageConfig;
  try {
    // A config document is checked against the manifest's layer count: here, its own.
    const count = (ImageConfig.safeParse(JSON.parse(data.toString('utf8'))).data?.rootfs.diff_ids.length ?? 0);
    config = parseImageConfig(data, manifest ?? { schemaVersion: 2, config: { mediaType: '', digest: '', size: 0 }, layers: Array.from({ length: count }, () => ({ mediaType: '', digest: '', size: 0 })) } as never, 'fuzz');
  } catch (e) {
    if (e instanceof SyntaxError) return;
    return refusal(e);
  }
  let spec;
  try {
    spec = specFromImage(config, read, 'fuzz');
  } catch (e) {
    return refusal(e);
  }
  // What the image config made must be a config.json tsrun itself accepts.
  parseConfig(JSON.stringify(spec));
}
