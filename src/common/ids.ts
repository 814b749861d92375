import { TsrunError } from './errors';

// Same rule as runc: letters, digits and _ + - . ; not "." or "..".
const ID_RE = /^[\w+\-.]+$/;

export function validateContainerId(id: string | undefined): string {
  if (!id) throw new TsrunError('TSRUN_E_USAGE', 'container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024)
    throw new TsrunError('TSRUN_E_ID', `invalid container id ${JSON.stringify(id)}: use letters, digits and _ + - .`);
  return id;
}

export function generateId(): string {
  // node:crypto costs a few ms to load: only `run` without an id pays for it.
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  return randomBytes(16).toString('hex');
}
