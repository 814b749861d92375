import type { Controller } from '../controller';
import { readNumber, writeCgroupFile } from '../fs-ops';

export const hugetlb: Controller = {
  name: 'hugetlb',
  wanted: (r) => !!r.hugepageLimits?.length,
  apply(dir, r) {
    for (const h of r.hugepageLimits ?? []) writeCgroupFile(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
  },
  stats(dir, s) {
    for (const size of ['2MB', '1GB'])
      s.hugetlb[size] = {
        usage: readNumber(dir, `hugetlb.${size}.usage_in_bytes`),
        max: readNumber(dir, `hugetlb.${size}.max_usage_in_bytes`),
        failcnt: readNumber(dir, `hugetlb.${size}.failcnt`),
      };
  },
};
