// Device cgroup rules, shared by the v1 (devices.allow/deny) and v2 (eBPF) drivers.
import { logWarn } from '../common/log';
export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

const rule = (type: string, major: number | null, minor: number | null, access = 'rwm'): DeviceRule => ({ allow: true, type, major, minor, access });

/** Always allowed after the config's own rules: what runc allows every container. */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  rule('c', null, null, 'm'),
  rule('b', null, null, 'm'),
  rule('c', 1, 3), // null
  rule('c', 1, 8), // random
  rule('c', 1, 7), // full
  rule('c', 5, 0), // tty
  rule('c', 1, 5), // zero
  rule('c', 1, 9), // urandom
  rule('c', 136, null), // pts/*
  rule('c', 5, 2), // ptmx
  rule('c', 10, 200), // net/tun
];

const num = (n: number | null | undefined): string => (n === undefined || n === null || n < 0 ? '*' : String(n));

/** "c 1:3 rwm"; type "a" stands alone. */
export function ruleText(r: DeviceRule): string {
  const type = r.type ?? 'a';
  if (type === 'a') return 'a';
  return `${type} ${num(r.major)}:${num(r.minor)} ${r.access ?? 'rwm'}`;
}

/** Access letters other than r, w, m are ignored, as runc ignores them: say so once per rule. */
export function warnStrayAccess(rules: readonly DeviceRule[] | undefined): void {
  for (const [i, r] of (rules ?? []).entries()) {
    const stray = [...(r.access ?? '')].filter((c) => !'rwm'.includes(c)).join('');
    if (stray) logWarn(`linux.resources.devices[${i}].access: ${JSON.stringify(stray)} ignored (access is made of r, w and m)`);
  }
}
