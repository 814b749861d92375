// Signal names as runc takes them (kill, stop signals in configs and images).
import * as os from 'node:os';
import { TsrunError } from '../common/errors';

/** "TERM", "SIGTERM", "15" -> 15; with allowZero, "0" (kill's check that the process lives). */
export function parseSignal(s: string | undefined, allowZero = false): number {
  if (s === undefined || s === '') return os.constants.signals.SIGTERM;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if ((n >= 1 || (allowZero && n === 0)) && n <= 64) return n;
  } else {
    const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as NodeJS.Signals;
    const n = os.constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new TsrunError('TSRUN_E_USAGE', `unknown signal ${JSON.stringify(s)}`);
}
