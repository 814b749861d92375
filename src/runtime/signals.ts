import { signalPid } from '../common/signal';

// In the foreground (run, exec without -d) signals sent to tsrun go to the container process.
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function forwardSignals(pid: number): () => void {
  const handler = (sig: NodeJS.Signals): void => {
    signalPid(pid, sig);
  };
  for (const s of FORWARDED) process.on(s, handler);
  return () => {
    for (const s of FORWARDED) process.off(s, handler);
  };
}
