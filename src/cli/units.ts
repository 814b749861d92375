// Sizes as people read them: binary units (KiB, MiB, GiB), as the kernel's limits are set.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 512 B, 1.5 KiB, 23.4 MiB, 1.20 GiB */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

/** A transfer rate: 3.2 MiB/s */
export function rate(byteCount: number, seconds: number): string {
  return seconds > 0 ? `${bytes(Math.round(byteCount / seconds))}/s` : '-';
}
