// ImageService: ListImages, ImageStatus, PullImage, RemoveImage, ImageFsInfo, over tsrun's
// image store. Pulls take credentials from the request and mirrors from the registry config.
import { ImageConfig } from '../../../specs/oci/image';
import { collectGarbage } from '../../image/gc';
import { pullImage } from '../../image/pull';
import { ContentStore } from '../../image/store/content-store';
import { ImageStore } from '../../image/store/image-store';
import type { CriContext } from '../context';
import { invalid } from '../errors';
import type { AuthConfig, CriReceived, Image } from '../proto';
import { diskUsage } from '../store/disk-usage';
import { nowNs } from '../store/types';
import { findCriImage, groupImages, type CriImage } from './lookup';

function imageMessage(ctx: CriContext, img: CriImage): Image {
  let user = '';
  try {
    user = ImageConfig.parse(JSON.parse(new ContentStore(ctx.opts.store).read(img.id).toString('utf8'))).config?.User ?? '';
  } catch {
    /* config unreadable: report no user */
  }
  const name = user.split(':')[0] ?? '';
  const numeric = /^\d+$/.test(name);
  return {
    id: img.id,
    repo_tags: img.repoTags,
    repo_digests: img.repoDigests,
    size: String(img.size),
    uid: numeric ? { value: name } : null,
    username: numeric ? '' : name,
    spec: { image: img.id, annotations: {} },
    pinned: false,
  };
}

function credentials(auth: AuthConfig | null): { username: string; password: string } | undefined {
  if (!auth) return undefined;
  if (auth.username) return { username: auth.username, password: auth.password };
  if (auth.auth) {
    const text = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  if (auth.identity_token || auth.registry_token) throw invalid('auth: identity and registry tokens are not supported; give username and password');
  return undefined;
}

export async function ListImages(ctx: CriContext, req: CriReceived<'ListImagesRequest'>) {
  const want = req.filter?.image?.image;
  const all = want ? [findCriImage(ctx.opts.store, want)].filter((i): i is CriImage => !!i) : groupImages(ctx.opts.store);
  return { images: all.map((i) => imageMessage(ctx, i)) };
}

export async function ImageStatus(ctx: CriContext, req: CriReceived<'ImageStatusRequest'>) {
  if (!req.image?.image) throw invalid('image.image is required');
  const img = findCriImage(ctx.opts.store, req.image.image);
  const info: Record<string, string> = {};
  if (img && req.verbose) info['info'] = JSON.stringify({ records: img.records });
  return { image: img ? imageMessage(ctx, img) : null, info };
}

export async function PullImage(ctx: CriContext, req: CriReceived<'PullImageRequest'>) {
  if (!req.image?.image) throw invalid('image.image is required');
  const rec = await pullImage(req.image.image, { store: ctx.opts.store, hostsDir: ctx.opts.registryConfig, credentials: credentials(req.auth) });
  return { image_ref: rec.config };
}

export async function RemoveImage(ctx: CriContext, req: CriReceived<'RemoveImageRequest'>) {
  if (!req.image?.image) throw invalid('image.image is required');
  const img = findCriImage(ctx.opts.store, req.image.image);
  if (!img) return {};
  const images = new ImageStore(ctx.opts.store);
  images.withLock(() => {
    for (const r of img.records) images.remove(r.name);
  });
  collectGarbage(ctx.opts.store);
  return {};
}

export async function ImageFsInfo(ctx: CriContext, _req: CriReceived<'ImageFsInfoRequest'>) {
  const ts = nowNs();
  const fsUsage = (dir: string) => {
    const u = diskUsage(dir);
    return { timestamp: ts, fs_id: { mountpoint: dir }, used_bytes: { value: String(u.bytes) }, inodes_used: { value: String(u.inodes) } };
  };
  return { image_filesystems: [fsUsage(ctx.opts.store)], container_filesystems: [fsUsage(`${ctx.opts.stateDir}/containers`)] };
}
