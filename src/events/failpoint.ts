// Crash injection: TSRUN_FAILPOINT=KIND[#N] kills this process with SIGKILL right after the N-th
// (default first) step of that kind is reached, exactly at a step boundary of the event stream
// rather than after a guessed delay, so tests can show that whatever a crash leaves behind,
// `delete --force` (or a server restart) cleans. As etcd's and TiKV's failpoints: off unless set.
import type { Sink } from './bus';

export function failpointSink(spec: string): Sink {
  const [kind, nth] = spec.split('#');
  let left = Number(nth ?? 1);
  return (e) => {
    if (e.kind === kind && --left === 0) process.kill(process.pid, 'SIGKILL');
  };
}
