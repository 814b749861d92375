import type { Controller } from '../controller';
import { blkioWeightToIoWeight } from '../convert';
import { hasFile, writeCgroupFile } from '../fs-ops';

export const io: Controller = {
  name: 'io',
  wanted: (r) => !!r.blockIO,
  apply(dir, r) {
    const b = r.blockIO!;
    // BFQ takes the v1 weight as is; io.weight has its own range.
    if (b.weight) {
      if (hasFile(dir, 'io.bfq.weight')) writeCgroupFile(dir, 'io.bfq.weight', String(b.weight));
      else writeCgroupFile(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)));
    }
    for (const d of b.weightDevice ?? [])
      if (d.weight)
        writeCgroupFile(
          dir,
          hasFile(dir, 'io.bfq.weight') ? 'io.bfq.weight' : 'io.weight',
          `${d.major}:${d.minor} ${hasFile(dir, 'io.bfq.weight') ? d.weight : blkioWeightToIoWeight(d.weight)}`,
        );
    const keys = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ] as const;
    for (const [key, word] of keys) for (const d of b[key] ?? []) writeCgroupFile(dir, 'io.max', `${d.major}:${d.minor} ${word}=${d.rate}`);
  },
};
