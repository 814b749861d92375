// Value conversions between the OCI (v1-shaped) resources and cgroup v2, as runc does them.

/** cpu.shares (2..262144) -> cpu.weight (1..10000) */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) -> io.weight (1..10000) */
export function blkioWeightToIoWeight(w: number): number {
  if (w === 0) return 0;
  return Math.floor(1 + ((w - 10) * 9999) / 990);
}

/** OCI memory.swap is memory+swap; v2 memory.swap.max is swap alone. */
export function swapToV2(swap: number, limit: number | undefined): string {
  if (swap === -1) return 'max';
  if (limit === undefined || limit === -1) return String(swap);
  if (swap < limit) throw new Error(`memory.swap (${swap}) must be at least memory.limit (${limit})`);
  return String(swap - limit);
}

export const v2Max = (n: number): string => (n < 0 ? 'max' : String(n));
