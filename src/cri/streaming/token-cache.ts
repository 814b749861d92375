// Streaming URLs carry a single-use random token instead of the request, as kubelet's requestCache:
// 8 URL-safe base64 characters, valid for one minute, at most 1000 outstanding.
import { randomBytes } from 'node:crypto';
import { TsrunError } from '../../common/errors';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './types';

export type CachedRequest = { kind: 'exec'; req: ExecRequest } | { kind: 'attach'; req: AttachRequest } | { kind: 'portforward'; req: PortForwardRequest };

export const TOKEN_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 1000;
const TOKEN_LENGTH = 8;

export class TokenCache {
  // Map keeps insertion order, which is expiry order: expired entries are always at the front.
  private readonly entries = new Map<string, { request: CachedRequest; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  insert(request: CachedRequest): string {
    this.gc();
    if (this.entries.size >= MAX_IN_FLIGHT) {
      throw new TsrunError(
        'TSRUN_E_STATE',
        `streaming server: ${MAX_IN_FLIGHT} ${request.kind} URLs are already outstanding (maximum number of in-flight requests exceeded); retry after they are used or expire`,
      );
    }
    for (let i = 0; i < 10; i++) {
      const token = randomBytes(Math.ceil((TOKEN_LENGTH * 6) / 8))
        .toString('base64url')
        .slice(0, TOKEN_LENGTH);
      if (this.entries.has(token)) continue;
      this.entries.set(token, { request, expires: this.now() + TOKEN_TTL_MS });
      return token;
    }
    throw new TsrunError('TSRUN_E_SYS', 'streaming server: failed to generate a unique token');
  }

  /** The request behind a token, once: the token is gone afterwards, and so is an expired one. */
  consume(token: string): CachedRequest | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return this.now() > entry.expires ? undefined : entry.request;
  }

  private gc(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) {
      if (now <= entry.expires) break;
      this.entries.delete(token);
    }
  }
}
