import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { hasFile, writeCgroupFile } from '../fs-ops';

// blkio.weight exists with CFQ, blkio.bfq.weight with BFQ; neither without a weighing scheduler.
function weightFile(dir: string, leaf = false): string {
  for (const f of leaf ? ['blkio.leaf_weight', 'blkio.bfq.leaf_weight'] : ['blkio.weight', 'blkio.bfq.weight']) if (hasFile(dir, f)) return f;
  throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.blockIO: weights need the CFQ or BFQ I/O scheduler, and this host has neither');
}

export const blkio: Controller = {
  name: 'blkio',
  wanted: (r) => !!r.blockIO,
  apply(dir, r) {
    const b = r.blockIO!;
    if (b.weight) writeCgroupFile(dir, weightFile(dir), String(b.weight));
    if (b.leafWeight) writeCgroupFile(dir, weightFile(dir, true), String(b.leafWeight));
    for (const d of b.weightDevice ?? []) if (d.weight) writeCgroupFile(dir, `${weightFile(dir)}_device`, `${d.major}:${d.minor} ${d.weight}`);
    const throttles = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ] as const;
    for (const [key, file] of throttles) for (const d of b[key] ?? []) writeCgroupFile(dir, file, `${d.major}:${d.minor} ${d.rate}`);
  },
};
