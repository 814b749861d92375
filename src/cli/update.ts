import * as fs from 'node:fs';
import type { LinuxResources } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { updateContainer } from '../runtime/resources';
import { int, needId, parseCommand, str } from './args';
import type { Globals } from './globals';

/** "64m", "1G", "1048576", "-1" -> bytes (binary units, like runc's RAMInBytes). */
export function parseBytes(s: string, flag: string): number {
  const m = /^(-?\d+)([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new TsrunError('TSRUN_E_USAGE', `--${flag}: invalid size ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * mult;
}

function intValue(s: string, flag: string): number {
  if (!/^-?\d+$/.test(s)) throw new TsrunError('TSRUN_E_USAGE', `--${flag}: not a number: ${JSON.stringify(s)}`);
  return Number(s);
}

export async function update(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('update', argv);
  const id = needId(args, 'update');
  let r: LinuxResources = {};
  const file = str(flags['resources']);
  if (file) {
    try {
      r = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8')) as LinuxResources;
    } catch (e) {
      throw new TsrunError('TSRUN_E_CONFIG', `${file === '-' ? 'stdin' : file}: ${(e as Error).message}`);
    }
  }
  const mem: NonNullable<LinuxResources['memory']> = { ...r.memory };
  const cpu: NonNullable<LinuxResources['cpu']> = { ...r.cpu };
  if (str(flags['memory'])) mem.limit = parseBytes(str(flags['memory'])!, 'memory');
  if (str(flags['memory-reservation'])) mem.reservation = parseBytes(str(flags['memory-reservation'])!, 'memory-reservation');
  if (str(flags['memory-swap'])) mem.swap = parseBytes(str(flags['memory-swap'])!, 'memory-swap');
  if (str(flags['kernel-memory-tcp'])) mem.kernelTCP = parseBytes(str(flags['kernel-memory-tcp'])!, 'kernel-memory-tcp');
  if (int(flags['cpu-shares']) !== undefined) cpu.shares = int(flags['cpu-shares']);
  if (str(flags['cpu-quota'])) cpu.quota = intValue(str(flags['cpu-quota'])!, 'cpu-quota');
  if (int(flags['cpu-period']) !== undefined) cpu.period = int(flags['cpu-period']);
  if (int(flags['cpu-rt-period']) !== undefined) cpu.realtimePeriod = int(flags['cpu-rt-period']);
  if (int(flags['cpu-rt-runtime']) !== undefined) cpu.realtimeRuntime = int(flags['cpu-rt-runtime']);
  if (str(flags['cpu-idle'])) cpu.idle = intValue(str(flags['cpu-idle'])!, 'cpu-idle');
  if (str(flags['cpuset-cpus'])) cpu.cpus = str(flags['cpuset-cpus']);
  if (str(flags['cpuset-mems'])) cpu.mems = str(flags['cpuset-mems']);
  if (Object.keys(mem).length) r.memory = mem;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (str(flags['pids-limit'])) r.pids = { limit: intValue(str(flags['pids-limit'])!, 'pids-limit') };
  if (int(flags['blkio-weight']) !== undefined) r.blockIO = { ...r.blockIO, weight: int(flags['blkio-weight']) };
  await updateContainer(g.root, id, r);
  return 0;
}
