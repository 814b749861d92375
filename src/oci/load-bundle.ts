// Load config.json from a bundle and check it completely before anything is created:
// parse, schema (zod), then the rules the schema cannot express. Every error names the file
// and the JSON path of what is wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { schemaProblem } from '../common/json-path';
import { validateConfig } from './validate';

export interface Bundle {
  dir: string;
  config: RuntimeConfig;
  rootfs: string;
}

export interface LoadOptions {
  /** create/run need a process; others (e.g. CRI sandboxes later) may not. */
  requireProcess: boolean;
}

function configError(msg: string): TsrunError {
  return new TsrunError('TSRUN_E_CONFIG', msg);
}

/** A config object checked (the schema, then the rules): the config, or what is wrong by its JSON path. */
export function checkConfig(raw: unknown, opts: LoadOptions = { requireProcess: true }): { config: RuntimeConfig; problem?: undefined } | { problem: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { problem: 'must be a JSON object' };
  const parsed = RuntimeConfig.safeParse(raw);
  if (!parsed.success) return { problem: schemaProblem(parsed.error) };
  const problem = validateConfig(parsed.data, opts);
  return problem ? { problem: `${problem.path}: ${problem.message}` } : { config: parsed.data };
}

export function parseConfig(text: string, file = 'config.json', opts: LoadOptions = { requireProcess: true }): RuntimeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw configError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const checked = checkConfig(raw, opts);
  if (checked.problem !== undefined) throw configError(`${file}: ${checked.problem}`);
  return checked.config;
}

const MAX_CONFIG_BYTES = 8 << 20;

export function loadBundle(dir: string, opts: LoadOptions = { requireProcess: true }): Bundle {
  const bundleDir = path.resolve(dir);
  const file = path.join(bundleDir, 'config.json');
  let text: string;
  try {
    // Bounded before it is read: a config is a few KiB (a large seccomp profile, tens).
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) throw new TsrunError('TSRUN_E_CONFIG', `${file}: larger than ${MAX_CONFIG_BYTES >> 20} MiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TsrunError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TsrunError('TSRUN_E_BUNDLE', `bundle ${bundleDir}: config.json not found`);
    throw new TsrunError('TSRUN_E_BUNDLE', `bundle ${bundleDir}: cannot read config.json: ${(e as Error).message}`);
  }
  const config = parseConfig(text, file, opts);
  const rootfs = path.resolve(bundleDir, config.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new TsrunError('TSRUN_E_BUNDLE', `${file}: root.path: ${rootfs} does not exist`);
  }
  if (!st.isDirectory()) throw new TsrunError('TSRUN_E_BUNDLE', `${file}: root.path: ${rootfs} is not a directory`);
  return { dir: bundleDir, config, rootfs };
}
