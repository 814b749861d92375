// run: create + start, then (unless detached) wait for the container and delete it,
// returning its exit status.
import { emit } from '../events/bus';
import { createContainer, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { forwardSignals } from './signals';
import { startContainer } from './start';

export interface RunOptions extends Omit<CreateOptions, 'foreground'> {
  detach: boolean;
  keep: boolean;
}

export async function runContainer(opts: RunOptions): Promise<number> {
  const created = await createContainer({ ...opts, foreground: !opts.detach });
  try {
    await startContainer(opts.root, opts.id);
  } catch (e) {
    await deleteContainer(opts.root, opts.id, true);
    throw e;
  }
  if (opts.detach) return 0;
  const stop = forwardSignals(created.record.pid);
  const code = await created.init.exited;
  stop();
  emit('exited', `status ${code}`, 0, opts.id);
  created.init.sync.close();
  if (!opts.keep) await deleteContainer(opts.root, opts.id, true);
  return code;
}
