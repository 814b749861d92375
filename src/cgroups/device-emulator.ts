// The devices cgroup's state, emulated as runc's devices emulator does (runc/libcontainer/
// cgroups/devices): a default (allow or deny every device) and exceptions keyed by type, major
// and minor, with the union of their access. The config's rules are applied to it in order,
// then the writes that turn the cgroup's current state (devices.list) into it are computed:
// duplicates and repeated rules merge, letters other than r, w, m drop out, nothing already
// in place is written again, and "a" (which cgroup v1 refuses once the cgroup has children)
// is written only when the default has to change. The v2 eBPF program is built from the same
// normalised rules, so both drivers grant the same devices. No npm package does this.
import { TsrunError } from '../common/errors';
import type { DeviceRule } from './device-rules';

const R = 1;
const W = 2;
const M = 4;
const WILDCARD = -1;

type Key = string; // "c 1 3": type, major, minor (-1 for *)

const keyOf = (type: string, major: number, minor: number): Key => `${type} ${major} ${minor}`;
const fromKey = (k: Key): { type: string; major: number; minor: number } => {
  const [type, major, minor] = k.split(' ');
  return { type: type!, major: Number(major), minor: Number(minor) };
};
const num = (n: number | null | undefined): number => (n === undefined || n === null || n < 0 ? WILDCARD : n);

function permsOf(access: string): number {
  let p = 0;
  for (const c of access) p |= c === 'r' ? R : c === 'w' ? W : c === 'm' ? M : 0;
  return p;
}
const permsText = (p: number): string => (p & R ? 'r' : '') + (p & W ? 'w' : '') + (p & M ? 'm' : '');

export class DeviceEmulator {
  defaultAllow = false;
  readonly exceptions = new Map<Key, number>();

  /** The state a devices.list describes ("a *:* rwm" alone: allow everything). */
  static fromList(text: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of text.split('\n').filter(Boolean)) {
      const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
      if (!m) throw new TsrunError('TSRUN_E_CGROUP', `devices.list: cannot read the line ${JSON.stringify(line)}`);
      const star = (s: string): number => (s === '*' ? WILDCARD : Number(s));
      e.allowDevice(m[1]!, star(m[2]!), star(m[3]!), permsOf(m[4]!));
    }
    return e;
  }

  /** The state after `rules`, applied in order to a cgroup that denies everything. */
  static fromRules(rules: readonly DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const [i, r] of rules.entries()) {
      const type = r.type === 'u' ? 'c' : (r.type ?? 'a');
      if (!['a', 'b', 'c'].includes(type))
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.devices[${i}].type: ${JSON.stringify(r.type)} is not a, b or c`);
      const perms = permsOf(r.access ?? 'rwm');
      try {
        if (r.allow) e.allowDevice(type, num(r.major), num(r.minor), perms);
        else e.denyDevice(type, num(r.major), num(r.minor), perms);
      } catch (err) {
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.devices[${i}]: ${(err as Error).message}`);
      }
    }
    return e;
  }

  private allowDevice(type: string, major: number, minor: number, perms: number): void {
    if (type === 'a') return this.reset(true);
    if (this.defaultAllow) this.remove(type, major, minor, perms);
    else this.add(type, major, minor, perms);
  }

  private denyDevice(type: string, major: number, minor: number, perms: number): void {
    if (type === 'a') return this.reset(false);
    if (this.defaultAllow) this.add(type, major, minor, perms);
    else this.remove(type, major, minor, perms);
  }

  private reset(allow: boolean): void {
    this.defaultAllow = allow;
    this.exceptions.clear();
  }

  private add(type: string, major: number, minor: number, perms: number): void {
    if (!perms) return;
    const k = keyOf(type, major, minor);
    this.exceptions.set(k, (this.exceptions.get(k) ?? 0) | perms);
  }

  // cgroup v1 ignores, silently, a removal that would cut into a wider (wildcard) exception:
  // refuse it, as runc does, rather than leave access the config meant to take away.
  private remove(type: string, major: number, minor: number, perms: number): void {
    const own = keyOf(type, major, minor);
    for (const wider of [keyOf(type, WILDCARD, minor), keyOf(type, major, WILDCARD), keyOf(type, WILDCARD, WILDCARD)]) {
      if (wider === own) continue;
      const p = this.exceptions.get(wider) ?? 0;
      if (p & perms) {
        const w = fromKey(wider);
        throw new Error(
          `"${type} ${star(major)}:${star(minor)} ${permsText(perms)}" would cut a hole in the wider rule "${type} ${star(w.major)}:${star(w.minor)} ${permsText(p)}", which the devices cgroup cannot do: narrow the wider rule instead`,
        );
      }
    }
    const left = (this.exceptions.get(own) ?? 0) & ~perms;
    if (left) this.exceptions.set(own, left);
    else this.exceptions.delete(own);
  }

  /**
   * The fewest writes that turn this state into `target`. A cgroup that allows everything is
   * reset with "a" first, since devices.list does not show what it denies.
   */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = new Map(this.exceptions);
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ allow: target.defaultAllow, type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm' });
      old = new Map();
    }
    const rule = (k: Key, perms: number, allow: boolean): DeviceRule => ({ allow, ...fromKey(k), access: permsText(perms) });
    for (const [k, perms] of ordered(old)) {
      const dropped = perms & ~(target.exceptions.get(k) ?? 0);
      if (dropped) out.push(rule(k, dropped, target.defaultAllow));
    }
    for (const [k, perms] of ordered(target.exceptions)) {
      const gained = perms & ~(old.get(k) ?? 0);
      if (gained) out.push(rule(k, gained, !target.defaultAllow));
    }
    return out;
  }

  /** The rules that build this state from "deny everything": what the v2 program checks. */
  rules(): DeviceRule[] {
    return new DeviceEmulator().transition(this);
  }

  /** Same default, same exceptions. */
  equals(o: DeviceEmulator): boolean {
    return (
      this.defaultAllow === o.defaultAllow && this.exceptions.size === o.exceptions.size && [...this.exceptions].every(([k, p]) => o.exceptions.get(k) === p)
    );
  }
}

const star = (n: number): string => (n < 0 ? '*' : String(n));

/** By major, minor, then type: the same state always gives the same writes. */
function ordered(m: Map<Key, number>): [Key, number][] {
  return [...m].sort(([a], [b]) => {
    const x = fromKey(a);
    const y = fromKey(b);
    return x.major - y.major || x.minor - y.minor || x.type.localeCompare(y.type);
  });
}
