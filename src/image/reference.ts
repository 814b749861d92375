// Image references with docker's defaults: "busybox" is docker.io/library/busybox:latest.
// Grammar from the distribution project's reference package (domain, path, tag, digest).
import { TsrunError } from '../common/errors';

export interface ImageReference {
  /** registry host[:port], e.g. docker.io, 127.0.0.1:5000 */
  registry: string;
  /** repository path, e.g. library/busybox */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$|^\[[0-9a-fA-F:.]+\](?::\d+)?$/;

function bad(ref: string, why: string): TsrunError {
  return new TsrunError('TSRUN_E_USAGE', `invalid image reference ${JSON.stringify(ref)}: ${why}`);
}

export function parseReference(ref: string): ImageReference {
  if (!ref) throw bad(ref, 'empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `malformed digest ${JSON.stringify(digest)}`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad(ref, 'a sha256 digest has 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `malformed tag ${JSON.stringify(tag)}`);
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  // The first part is a registry when it looks like a host: a dot, a port, or "localhost".
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost' || parts[0]!.startsWith('['))) {
    registry = parts.shift()!;
    if (!DOMAIN.test(registry)) throw bad(ref, `malformed registry host ${JSON.stringify(registry)}`);
  }
  for (const p of parts) {
    if (p !== p.toLowerCase()) throw bad(ref, 'repository name must be lowercase');
    if (!COMPONENT.test(p)) throw bad(ref, `malformed repository component ${JSON.stringify(p)}`);
  }
  let repository = parts.join('/');
  if (registry === DEFAULT_REGISTRY && parts.length === 1) repository = `library/${repository}`;
  if (repository.length > 255) throw bad(ref, 'repository name longer than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** docker.io/library/busybox:latest, or ...@sha256:... */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The shortest form docker would print: busybox:latest, 127.0.0.1:5000/x:1 */
export function familiarName(r: ImageReference): string {
  let name = r.registry === DEFAULT_REGISTRY ? r.repository.replace(/^library\//, '') : `${r.registry}/${r.repository}`;
  if (r.tag) name += `:${r.tag}`;
  if (r.digest) name += `@${r.digest}`;
  return name;
}
