// The init names a failing mount by its destination ("mount none (nosuchfs) on /mnt/x: No such
// device"); the user wrote it as an entry of config.json's mounts: say which one, as every
// other config error names its JSON path.
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';

const BY_DESTINATION = /^(?:bind )?mount .*? on (\/[^:]*): |^remount (\/\S*) /;
const BY_SOURCE = /^bind mount source (\S+): /;

export function withMountPath(config: RuntimeConfig, e: unknown): unknown {
  if (!(e instanceof TsrunError) || e.code !== 'TSRUN_E_INIT') return e;
  const d = BY_DESTINATION.exec(e.message);
  const s = d ? undefined : BY_SOURCE.exec(e.message);
  const want = d?.[1] ?? d?.[2] ?? s?.[1];
  if (!want) return e;
  const field = (m: { destination: string; source?: string }): string => path.posix.normalize((s ? m.source : m.destination) ?? '');
  const mounts = config.mounts ?? [];
  let i = mounts.length - 1;
  while (i >= 0 && field(mounts[i]!) !== path.posix.normalize(want)) i--;
  return i < 0 ? e : new TsrunError(e.code, `mounts[${i}]: ${e.message}`, e.errno);
}
