// linux.resources -> systemd unit properties, as runc's systemd driver converts them
// (genV1ResourcesProperties / genV2ResourcesProperties, unifiedResToSystemdProps, the device
// rules of devices/systemd.go). systemd writes these into the cgroup itself and keeps them
// across a daemon-reload; tsrun then writes the rest (and the same values) through cgroupfs.
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { TsrunError } from '../../common/errors';
import { sharesToWeight, swapToV2 } from '../convert';
import { DEFAULT_DEVICE_RULES, type DeviceRule } from '../device-rules';
import { prop, type Property } from './dbus';

/** USEC_INFINITY / "infinity" for the 64-bit limits. */
const INFINITY = 2n ** 64n - 1n;
const DEFAULT_PERIOD = 100000;

const u64 = (n: number): bigint => (n < 0 ? INFINITY : BigInt(n));

/** The properties every container's unit gets (runc's Apply), besides its resources. */
export function baseProperties(opts: { id: string; unit: string; slice: string; pid?: number; v2: boolean }): Property[] {
  const out: Property[] = [prop('Description', 's', `tsrun container ${opts.id}`)];
  // A slice's parent is named by Wants=; a scope is put in a Slice= and delegated, so that the
  // container may make cgroups below it and systemd leaves them alone.
  if (opts.unit.endsWith('.slice')) out.push(prop('Wants', 'as', [opts.slice]));
  else out.push(prop('Slice', 's', opts.slice), prop('Delegate', 'b', true));
  if (opts.pid !== undefined) out.push(prop('PIDs', 'au', [opts.pid]));
  // Always account, as runc: the same files as with cgroupfs, and the kernel has trouble
  // joining a memory cgroup later.
  out.push(
    prop('MemoryAccounting', 'b', true),
    prop('CPUAccounting', 'b', true),
    prop(opts.v2 ? 'IOAccounting' : 'BlockIOAccounting', 'b', true),
    prop('TasksAccounting', 'b', true),
    prop('DefaultDependencies', 'b', false),
  );
  return out;
}

/**
 * The resource properties. `r` may be changed: a CPU quota systemd can only hold rounded up to
 * 1% of a CPU (10 ms per second) is rounded in `r` too, so that cgroupfs gets the same value.
 */
export function resourceProperties(r: LinuxResources, v2: boolean, systemdVersion: number): Property[] {
  const out: Property[] = [...deviceProperties(r.devices)];
  const m = r.memory;
  if (v2) {
    if (m?.limit) out.push(prop('MemoryMax', 't', u64(m.limit)));
    if (m?.reservation) out.push(prop('MemoryLow', 't', u64(m.reservation)));
    if (m?.swap) {
      let swap: string;
      try {
        swap = swapToV2(m.swap, m.limit);
      } catch (e) {
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.memory: ${(e as Error).message}`);
      }
      out.push(prop('MemorySwapMax', 't', swap === 'max' ? INFINITY : BigInt(swap)));
    }
    if (r.cpu?.idle === 1 && systemdVersion >= 252) out.push(prop('CPUWeight', 't', 0n));
    else if (r.cpu?.shares) out.push(prop('CPUWeight', 't', BigInt(sharesToWeight(r.cpu.shares))));
  } else {
    if (m?.limit) out.push(prop('MemoryLimit', 't', u64(m.limit)));
    if (r.cpu?.shares) out.push(prop('CPUShares', 't', BigInt(r.cpu.shares)));
    if (r.blockIO?.weight) out.push(prop('BlockIOWeight', 't', BigInt(r.blockIO.weight)));
  }
  if (r.cpu && (r.cpu.quota !== undefined || r.cpu.period !== undefined)) out.push(...cpuQuota(r, systemdVersion));
  if (r.pids) out.push(prop('TasksMax', 't', r.pids.limit > 0 ? BigInt(r.pids.limit) : INFINITY));
  if (systemdVersion >= 244) {
    if (r.cpu?.cpus) out.push(prop('AllowedCPUs', 'ay', rangeToBits(r.cpu.cpus, 'linux.resources.cpu.cpus')));
    if (r.cpu?.mems) out.push(prop('AllowedMemoryNodes', 'ay', rangeToBits(r.cpu.mems, 'linux.resources.cpu.mems')));
  }
  if (v2 && r.unified) out.push(...unifiedProperties(r.unified, systemdVersion));
  return out;
}

/** CPUQuotaPerSecUSec (rounded up to 10 ms, as systemd keeps a percentage) and CPUQuotaPeriodUSec. */
function cpuQuota(r: LinuxResources, systemdVersion: number): Property[] {
  const out: Property[] = [];
  const c = r.cpu!;
  const period = c.period ?? 0;
  if (period && systemdVersion >= 242) out.push(prop('CPUQuotaPeriodUSec', 't', BigInt(period)));
  const quota = c.quota ?? 0;
  if (quota === 0 && period === 0) return out;
  let perSec = INFINITY;
  if (quota > 0) {
    const p = period || DEFAULT_PERIOD;
    let us = Math.floor((quota * 1_000_000) / p);
    if (us % 10000 !== 0) {
      us = (Math.floor(us / 10000) + 1) * 10000;
      c.quota = Math.floor((us * p) / 1_000_000);
    }
    perSec = BigInt(us);
  }
  out.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  return out;
}

/** "0-2,5" -> systemd's CPU/NUMA-node bitmask: little-endian bytes, bit n for cpu n. */
export function rangeToBits(list: string, field: string): Buffer {
  const bits: number[] = [];
  for (const part of list.split(',').map((p) => p.trim())) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TsrunError('TSRUN_E_CONFIG', `${field}: ${JSON.stringify(list)}: "${part}" is not a number or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 8191) throw new TsrunError('TSRUN_E_CONFIG', `${field}: ${JSON.stringify(list)}: bad range "${part}"`);
    for (let i = a; i <= b; i++) bits.push(i);
  }
  if (!bits.length) throw new TsrunError('TSRUN_E_CONFIG', `${field}: ${JSON.stringify(list)} names no cpu or node`);
  const out = Buffer.alloc(Math.floor(Math.max(...bits) / 8) + 1);
  for (const i of bits) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** The raw v2 keys systemd has properties for (runc's unifiedResToSystemdProps); others go to cgroupfs only. */
function unifiedProperties(unified: Record<string, string>, systemdVersion: number): Property[] {
  const out: Property[] = [];
  const num = (k: string, v: string): bigint => {
    if (v === 'max') return INFINITY;
    if (!/^\d+$/.test(v))
      throw new TsrunError('TSRUN_E_CONFIG', `linux.resources.unified[${JSON.stringify(k)}]: ${JSON.stringify(v)} is not a number or "max"`);
    return BigInt(v);
  };
  const memory: Record<string, string> = {
    'memory.high': 'MemoryHigh',
    'memory.low': 'MemoryLow',
    'memory.min': 'MemoryMin',
    'memory.max': 'MemoryMax',
    'memory.swap.max': 'MemorySwapMax',
  };
  for (const [k, raw] of Object.entries(unified)) {
    const v = raw.trim();
    if (memory[k]) out.push(prop(memory[k], 't', num(k, v)));
    else if (k === 'pids.max') {
      const n = num(k, v);
      out.push(prop('TasksMax', 't', n === 0n ? 1n : n)); // systemd takes no 0 for TasksMax
    } else if (k === 'cpu.weight' && unified['cpu.idle']?.trim() !== '1') out.push(prop('CPUWeight', 't', num(k, v)));
    else if (k === 'cpu.idle' && v === '1' && systemdVersion >= 252) out.push(prop('CPUWeight', 't', 0n));
    else if ((k === 'cpuset.cpus' || k === 'cpuset.mems') && systemdVersion >= 244)
      out.push(prop(k === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', 'ay', rangeToBits(v, `linux.resources.unified[${JSON.stringify(k)}]`)));
    else if (k === 'cpu.max') {
      const [q, p] = v.split(/\s+/);
      const quota = q === 'max' || q === undefined ? 0 : Number(num(k, q));
      const period = p === undefined ? DEFAULT_PERIOD : Number(num(k, p));
      out.push(...cpuQuota({ cpu: { quota, period } }, systemdVersion));
    }
  }
  return out;
}

/** A rule of the effective allow list, as systemd's DeviceAllow= takes it: a path and "rwm". */
type Allowed = { type: 'c' | 'b'; major: number; minor: number; access: string };

/**
 * DevicePolicy=strict and a DeviceAllow= list equal to the config's rules (tsrun's defaults
 * appended), as runc's devices/systemd.go. systemd has no deny rules: a list that allows all and
 * then denies some (a deny list) is given to systemd as deny-all, as runc does, and the real rules
 * follow through cgroupfs (v1 devices.deny/allow, v2 tsrun's own eBPF program, which replaces
 * systemd's).
 */
export function deviceProperties(rules: DeviceRule[] | undefined): Property[] {
  if (!rules) return [];
  const strict: Property[] = [prop('DeviceAllow', 'a(ss)', []), prop('DevicePolicy', 's', 'strict')];
  let allowAll = false;
  let denied = false;
  let list: Allowed[] = [];
  const any = (n: number | null | undefined): number => (n === undefined || n === null || n < 0 ? -1 : n);
  for (const r of [...rules, ...DEFAULT_DEVICE_RULES]) {
    const type = r.type ?? 'a';
    const major = any(r.major);
    const minor = any(r.minor);
    const access = r.access ?? 'rwm';
    // "a" (every device) with every access resets the list: to allow-all, or to deny-all.
    if (type === 'a' && [...'rwm'].every((c) => access.includes(c))) {
      allowAll = r.allow;
      denied = false;
      list = [];
      continue;
    }
    const types: ('c' | 'b')[] = type === 'a' ? ['c', 'b'] : [type as 'c' | 'b'];
    for (const t of types) {
      if (r.allow) {
        if (!allowAll) list.push({ type: t, major, minor, access });
      } else if (allowAll) denied = true;
      else
        list = list
          .map((a) =>
            a.type === t && a.major === major && a.minor === minor ? { ...a, access: [...a.access].filter((c) => !access.includes(c)).join('') } : a,
          )
          .filter((a) => a.access);
    }
  }
  if (allowAll && !denied) return [prop('DeviceAllow', 'a(ss)', []), prop('DevicePolicy', 's', 'auto')];
  if (allowAll) return strict;
  const entries: [string, string][] = [];
  for (const a of list) {
    const prefix = a.type === 'c' ? 'char-' : 'block-';
    // "*:n" rules cannot be said to systemd (runc skips them too); cgroupfs still gets them.
    if (a.major === -1 && a.minor !== -1) continue;
    const where = a.major === -1 ? `${prefix}*` : a.minor === -1 ? `${prefix}${a.major}` : `/dev/${a.type === 'c' ? 'char' : 'block'}/${a.major}:${a.minor}`;
    entries.push([where, a.access]);
  }
  return [...strict, prop('DeviceAllow', 'a(ss)', entries)];
}
