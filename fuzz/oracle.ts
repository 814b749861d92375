// What a fuzz target may let through: a refusal the project makes on purpose, a TsrunError with
// its code or a CriError with its gRPC status, each naming what is wrong. Anything else escaping
// (a TypeError or RangeError from a value nobody checked, a raw errno error nobody worded) is a
// finding: the fuzzer stops and keeps the input that caused it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsrunError } from '../src/common/errors';
import { CriError } from '../src/cri/errors';

export function refusal(e: unknown): void {
  if (e instanceof TsrunError || e instanceof CriError) return;
  throw e;
}

/** A finding that is not an exception of the code under test: the oracle's own verdict. */
export class Finding extends Error {
  override name = 'Finding';
}

/**
 * The directory a target may write into: the sandbox's tmpfs (the runner mounts it and makes
 * everything else read-only), or a fresh temporary one when a target runs on its own.
 */
export function scratchDir(): string {
  const dir = process.env['TSRUN_FUZZ_SCRATCH'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-fuzz-'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
