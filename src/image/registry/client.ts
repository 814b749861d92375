// Distribution API v2 over undici: manifests and blobs of one repository, trying each
// configured endpoint (mirrors first), answering auth challenges once per scope.
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { TsrunError } from '../../common/errors';
import { basicHeader, credentialsFromDockerConfig, parseChallenge, type Credentials } from './auth';
import { hostsFile, resolveEndpoints, type Endpoint } from './hosts';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Manifests and indexes larger than this are refused (containerd's bound too). */
export const MAX_DOCUMENT_BYTES = 4 << 20;
/** A registry that sends nothing for this long (no headers, or a stalled body) is given up. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RegistryOptions {
  /** idle limit of each request, for headers and between body chunks */
  timeoutMs?: number;
  hostsDir?: string;
  plainHttp?: boolean;
  credentials?: Credentials;
  /** path of a docker-style config.json with "auths" */
  dockerConfig?: string;
}

interface Response {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> };
}

const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

export class RegistryClient {
  private readonly endpoints: Endpoint[];
  private readonly creds?: Credentials;
  /** Authorization header per endpoint origin, once a challenge was answered */
  private readonly auth = new Map<string, string>();
  private readonly timeouts: { headersTimeout: number; bodyTimeout: number };
  private readonly hostsDir?: string;

  constructor(
    readonly registry: string,
    readonly repository: string,
    opts: RegistryOptions = {},
  ) {
    this.endpoints = resolveEndpoints(registry, opts);
    this.hostsDir = opts.hostsDir;
    this.creds = opts.credentials ?? credentialsFromDockerConfig(registry, opts.dockerConfig);
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.timeouts = { headersTimeout: ms, bodyTimeout: ms };
  }

  private async send(ep: Endpoint, path: string, headers: Record<string, string>): Promise<Response> {
    const url = `${ep.origin}${ep.apiPath}/${this.repository}/${path}`;
    const auth = this.auth.get(ep.origin);
    const opts = {
      method: 'GET' as const,
      headers: { ...headers, ...(auth ? { authorization: auth } : {}) },
      maxRedirections: 5,
      ...this.timeouts,
      dispatcher: ep.skipVerify ? (insecureAgent as Dispatcher) : undefined,
    };
    return (await request(url, opts)) as unknown as Response;
  }

  private async authorize(ep: Endpoint, res: Response): Promise<boolean> {
    const ch = parseChallenge(res.headers['www-authenticate']);
    await res.body.text().catch(() => '');
    if (!ch) return false;
    if (ch.scheme === 'basic') {
      if (!this.creds)
        throw new TsrunError('TSRUN_E_REGISTRY', `${this.registry}: authentication required (basic); give credentials (--creds or a docker config.json)`);
      this.auth.set(ep.origin, basicHeader(this.creds));
      return true;
    }
    const realm = ch.params['realm'];
    if (!realm) throw new TsrunError('TSRUN_E_REGISTRY', `${this.registry}: a Bearer challenge without a realm`);
    const u = new URL(realm);
    if (ch.params['service']) u.searchParams.set('service', ch.params['service']);
    u.searchParams.set('scope', ch.params['scope'] ?? `repository:${this.repository}:pull`);
    const tr = (await request(u.toString(), {
      headers: this.creds ? { authorization: basicHeader(this.creds) } : {},
      maxRedirections: 5,
      ...this.timeouts,
    })) as unknown as Response;
    const text = await tr.body.text();
    if (tr.statusCode !== 200)
      throw new TsrunError(
        'TSRUN_E_REGISTRY',
        `${this.registry}: the token server ${u.origin} refused (${tr.statusCode})${this.creds ? '' : '; no credentials were given'}`,
      );
    let token: string | undefined;
    try {
      const j = JSON.parse(text) as { token?: string; access_token?: string };
      token = j.token ?? j.access_token;
    } catch {
      /* below */
    }
    if (!token) throw new TsrunError('TSRUN_E_REGISTRY', `${this.registry}: the token server ${u.origin} returned no token`);
    this.auth.set(ep.origin, `Bearer ${token}`);
    return true;
  }

  /** GET with mirror fallback and one auth round; the caller reads the body. */
  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const errors: string[] = [];
    let answered = false;
    for (const ep of this.endpoints) {
      let res: Response;
      try {
        res = await this.send(ep, path, headers);
        if (res.statusCode === 401 && (await this.authorize(ep, res))) res = await this.send(ep, path, headers);
      } catch (e) {
        if (e instanceof TsrunError) throw e;
        errors.push(`${ep.origin}: ${this.describe(e)}`);
        continue;
      }
      answered = true;
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const body = (await res.body.text().catch(() => '')).slice(0, 300);
      const detail = registryErrorMessage(body);
      if (res.statusCode === 401 || res.statusCode === 403)
        throw new TsrunError(
          'TSRUN_E_REGISTRY',
          `${this.registry}/${this.repository}: access denied (${res.statusCode})${detail ? `: ${detail}` : ''}${this.creds ? '' : '; no credentials were given'}`,
        );
      errors.push(`${ep.origin}${ep.apiPath}/${this.repository}/${path}: ${res.statusCode}${detail ? ` ${detail}` : ''}`);
    }
    if (!answered) throw new TsrunError('TSRUN_E_REGISTRY', this.unreachable(errors));
    throw new TsrunError('TSRUN_E_REGISTRY', `${this.registry}/${this.repository}: ${errors.join('; ')}`);
  }

  /** No endpoint answered at all: name the registry, what was tried, and the mirror config that would serve it. */
  private unreachable(errors: string[]): string {
    const file = hostsFile(this.registry, this.hostsDir);
    const mirrors = this.endpoints.length > 1;
    return (
      `cannot reach the registry ${this.registry} (${errors.join('; ')}). ` +
      (mirrors ? `The mirrors configured in ${file} did not answer either. ` : '') +
      `A mirror that serves ${this.registry} is configured in ${file}: a [host."http://MIRROR:PORT/v2/${this.registry}"] table ` +
      'with override_path = true (another directory: tsrun pull --hosts-dir DIR, tsrun cri --registry-config DIR)'
    );
  }

  /** Why a request failed, in words (undici's timeouts say only "Headers Timeout Error"). */
  describe(e: unknown): string {
    const code = (e as { code?: string }).code;
    const s = this.timeouts.bodyTimeout / 1000;
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return `no answer within ${s} s`;
    if (code === 'UND_ERR_BODY_TIMEOUT') return `the registry sent nothing for ${s} s (stalled, or it announced more than it sends)`;
    return (e as Error).message;
  }

  async manifest(reference: string): Promise<{ body: Buffer; mediaType: string; digestHeader?: string }> {
    const res = await this.get(`manifests/${reference}`, { accept: MANIFEST_TYPES.join(', ') });
    const what = `${this.registry}/${this.repository}: manifest ${reference}`;
    const tooBig = (): TsrunError =>
      new TsrunError('TSRUN_E_REGISTRY', `${what}: larger than ${MAX_DOCUMENT_BYTES >> 20} MiB, the most a manifest or index may be`);
    if (Number(res.headers['content-length'] ?? 0) > MAX_DOCUMENT_BYTES) {
      res.body.destroy();
      throw tooBig();
    }
    const chunks: Buffer[] = [];
    let len = 0;
    try {
      for await (const c of res.body) {
        len += (c as Buffer).length;
        if (len > MAX_DOCUMENT_BYTES) {
          res.body.destroy();
          throw tooBig();
        }
        chunks.push(c as Buffer);
      }
    } catch (e) {
      if (e instanceof TsrunError) throw e;
      throw new TsrunError('TSRUN_E_REGISTRY', `${what}: ${this.describe(e)}`);
    }
    const body = Buffer.concat(chunks);
    const ct = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    const dcd = res.headers['docker-content-digest'];
    return { body, mediaType: ct, digestHeader: Array.isArray(dcd) ? dcd[0] : dcd };
  }

  /**
   * A blob from one of its descriptor's URLs (foreign / non-distributable layers, which
   * registries may not hold): the first URL that answers 200.
   */
  async blobFromUrls(urls: string[], digest: string): Promise<Readable> {
    const errors: string[] = [];
    for (const url of urls) {
      try {
        const res = (await request(url, { maxRedirections: 5, ...this.timeouts })) as unknown as Response;
        if (res.statusCode === 200) return res.body;
        await res.body.text().catch(() => '');
        errors.push(`${url}: ${res.statusCode}`);
      } catch (e) {
        errors.push(`${url}: ${this.describe(e)}`);
      }
    }
    throw new TsrunError('TSRUN_E_REGISTRY', `blob ${digest}: none of its URLs answered (${errors.join('; ')})`);
  }

  /** A blob's bytes from `offset` on (Range), for resuming an interrupted download. */
  async blob(digest: string, offset = 0): Promise<{ stream: Readable; resumed: boolean }> {
    const res = await this.get(`blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {});
    return { stream: res.body, resumed: offset > 0 && res.statusCode === 206 };
  }
}

function registryErrorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    return (j.errors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join(', ');
  } catch {
    return body.trim().split('\n')[0] ?? '';
  }
}
