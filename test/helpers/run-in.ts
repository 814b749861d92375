import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { makeBundle } from '../fixtures/busybox';
import { tsrun, uniqueId, type Result } from './tsrun';

/** `tsrun run` of a shell script in a busybox container whose default config `edit` adjusts. */
export function runScript(root: string, script: string, edit?: (c: RuntimeConfig) => void): Result {
  return tsrun(root, ['run', '-b', makeBundle(['sh', '-c', script], edit), uniqueId('c')]);
}
