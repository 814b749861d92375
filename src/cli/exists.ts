import { TsrunError } from '../common/errors';
import { existsAdvice } from './advice';

/** An id already in use: the error says what state the container is in and how to remove it. */
export async function withExistsAdvice<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof TsrunError) || e.code !== 'TSRUN_E_EXISTS') throw e;
    let status: string | undefined;
    try {
      // Loaded on this error only: a run that succeeds does not pay for it.
      status = (require('../runtime/list') as typeof import('../runtime/list')).containerState(root, id).status;
    } catch {
      /* gone meanwhile, or no record yet */
    }
    throw new TsrunError('TSRUN_E_EXISTS', `${e.message}: ${existsAdvice(id, status)}`);
  }
}
