// The CRI's view of the image store: one image per config digest (its id), with every tag
// and repo digest that points at it. Lookups accept a tag, a short name, an id (or a prefix
// of 12+ hex digits) and repo@digest, as kubelet and crictl send them.
import { parseReference, formatReference } from '../../image/reference';
import { ImageStore, type ImageRecord } from '../../image/store/image-store';

export interface CriImage {
  id: string;
  records: ImageRecord[];
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

function repoOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

export function groupImages(store: string): CriImage[] {
  const byId = new Map<string, CriImage>();
  for (const r of new ImageStore(store).all()) {
    let img = byId.get(r.config);
    if (!img) byId.set(r.config, (img = { id: r.config, records: [], repoTags: [], repoDigests: [], size: r.size }));
    img.records.push(r);
    if (!r.name.includes('@')) img.repoTags.push(r.name);
    const rd = `${repoOf(r.name)}@${r.indexDigest ?? r.digest}`;
    if (!img.repoDigests.includes(rd)) img.repoDigests.push(rd);
  }
  return [...byId.values()];
}

/**
 * The image a container's status names (the kubelet shows it as the pod's container image):
 * the reference the user gave (user_specified_image, sent by kubelets since 1.30), else the
 * request's own unless that is the image's id (what a kubelet creates containers from): then
 * the image's first tag, as containerd reports it.
 */
export function statusImageName(spec: { image: string; user_specified_image?: string }, image: CriImage): string {
  if (spec.user_specified_image) return spec.user_specified_image;
  const isId = spec.image === image.id || spec.image === image.id.replace(/^sha256:/, '');
  return isId && image.repoTags.length ? image.repoTags[0]! : spec.image;
}

export function findCriImage(store: string, ref: string): CriImage | undefined {
  if (!ref) return undefined;
  const all = groupImages(store);
  let normalized: string | undefined;
  try {
    normalized = formatReference(parseReference(ref));
  } catch {
    /* an id */
  }
  const hex = ref.replace(/^sha256:/, '');
  return (
    all.find((i) => i.id === ref || i.id === `sha256:${ref}`) ??
    all.find((i) => i.repoTags.includes(ref) || (normalized !== undefined && i.repoTags.includes(normalized))) ??
    all.find((i) => i.repoDigests.includes(ref) || (normalized !== undefined && i.repoDigests.includes(normalized))) ??
    all.find((i) => i.records.some((r) => r.name === ref || r.name === normalized)) ??
    (/^[0-9a-f]{12,64}$/.test(hex) ? all.find((i) => i.id.replace('sha256:', '').startsWith(hex)) : undefined)
  );
}
