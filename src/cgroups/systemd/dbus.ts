// systemd's Manager API over D-Bus (the system bus; a rootless caller's own systemd on its
// session bus), through @jellybrick/dbus-next, a maintained fork of dbus-next. The calls are
// those runc's systemd driver makes (go-systemd): StartTransientUnit and waiting for its job,
// SetUnitProperties, StopUnit, ResetFailedUnit, and the manager's Version and ControlGroup.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DBusError, Message, MessageType, sessionBus, systemBus, Variant, type MessageBus } from '@jellybrick/dbus-next';
import { TsrunError } from '../../common/errors';

const SYSTEMD = 'org.freedesktop.systemd1';
const OBJECT = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
/** As runc: a job that takes longer than this is given up. */
const JOB_TIMEOUT_MS = 30_000;

/** A unit property as systemd takes it: a name and a typed value (a D-Bus variant). */
export type Property = [string, Variant];
export const prop = (name: string, signature: string, value: unknown): Property => [name, new Variant(signature, value)];

/** systemd as PID 1 (or a user's manager) answers on D-Bus: sd_booted(3)'s test, as runc's IsRunningSystemd. */
export function isRunningSystemd(): boolean {
  try {
    return fs.lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

/** runc's words where systemd is not PID 1, and what to use instead. */
export function requireSystemd(): void {
  if (!isRunningSystemd())
    throw new TsrunError(
      'TSRUN_E_UNSUPPORTED',
      '--systemd-cgroup: systemd cgroup flag passed, but systemd support for managing cgroups is not available (systemd is not PID 1 here: no /run/systemd/system); use the cgroupfs driver (leave --systemd-cgroup out)',
    );
}

export class SystemdBus {
  private jobs = new Map<string, string>();
  private waiters = new Map<string, (result: string) => void>();
  private matched = false;

  private constructor(
    private readonly bus: MessageBus,
    private readonly what: string,
  ) {
    bus.on('message', (m: Message) => {
      if (m.type !== MessageType.SIGNAL || m.interface !== MANAGER || m.member !== 'JobRemoved') return;
      const [, job, , result] = m.body as [number, string, string, string];
      const w = this.waiters.get(job);
      if (w) {
        this.waiters.delete(job);
        w(result);
      } else this.jobs.set(job, result);
    });
  }

  /** The system's systemd, or with `user` the caller's own (its session bus, $XDG_RUNTIME_DIR/bus). */
  static connect(user: boolean): SystemdBus {
    if (!user) requireSystemd();
    const address = user
      ? process.env['DBUS_SESSION_BUS_ADDRESS'] ||
        (process.env['XDG_RUNTIME_DIR'] ? `unix:path=${path.join(process.env['XDG_RUNTIME_DIR'], 'bus')}` : undefined)
      : undefined;
    if (user && !address)
      throw new TsrunError(
        'TSRUN_E_UNSUPPORTED',
        '--systemd-cgroup as an ordinary user needs its systemd --user on the session bus: set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR',
      );
    const bus = user ? sessionBus({ busAddress: address }) : systemBus();
    const what = user ? `the user's systemd (${address})` : "systemd's system bus";
    return new SystemdBus(bus, what);
  }

  close(): void {
    this.bus.disconnect();
  }

  private async call(member: string, signature: string, body: unknown[], what: string): Promise<unknown[]> {
    try {
      const reply = await this.bus.call(new Message({ destination: SYSTEMD, path: OBJECT, interface: MANAGER, member, signature, body }));
      return (reply?.body ?? []) as unknown[];
    } catch (e) {
      throw dbusError(e, `${what} through ${this.what}`);
    }
  }

  /** JobRemoved signals reach the client that queued the job: listen for them (once per connection). */
  private async listenForJobs(): Promise<void> {
    if (this.matched) return;
    const rule = `type='signal',sender='${SYSTEMD}',path='${OBJECT}',interface='${MANAGER}',member='JobRemoved'`;
    try {
      await this.bus.call(
        new Message({
          destination: 'org.freedesktop.DBus',
          path: '/org/freedesktop/DBus',
          interface: 'org.freedesktop.DBus',
          member: 'AddMatch',
          signature: 's',
          body: [rule],
        }),
      );
    } catch (e) {
      throw dbusError(e, `AddMatch for systemd's JobRemoved through ${this.what}`);
    }
    this.matched = true;
  }

  private waitJob(job: string, unit: string, verb: string): Promise<string> {
    const done = this.jobs.get(job);
    if (done !== undefined) {
      this.jobs.delete(job);
      return Promise.resolve(done);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(job);
        reject(new TsrunError('TSRUN_E_TIMEOUT', `Timeout waiting for systemd to ${verb} ${unit}`));
      }, JOB_TIMEOUT_MS);
      this.waiters.set(job, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /** Starts a transient unit and waits for its job, as runc's startUnit (a failed leftover is reset once). */
  async startTransientUnit(unit: string, properties: Property[]): Promise<void> {
    await this.listenForJobs();
    for (let attempt = 0; ; attempt++) {
      let job: string;
      try {
        [job] = (await this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', properties, []], `StartTransientUnit ${unit}`)) as [string];
      } catch (e) {
        if (attempt === 0 && e instanceof TsrunError && /UnitExists/.test(e.message)) {
          await this.resetFailedUnit(unit).catch(() => undefined);
          continue;
        }
        throw e;
      }
      const result = await this.waitJob(job, unit, 'create');
      if (result !== 'done') {
        await this.resetFailedUnit(unit).catch(() => undefined);
        throw new TsrunError('TSRUN_E_CGROUP', `error creating systemd unit \`${unit}\`: got \`${result}\``);
      }
      return;
    }
  }

  async stopUnit(unit: string): Promise<void> {
    await this.listenForJobs();
    try {
      const [job] = (await this.call('StopUnit', 'ss', [unit, 'replace'], `StopUnit ${unit}`)) as [string];
      await this.waitJob(job, unit, 'remove');
    } catch (e) {
      // A unit that is already gone (its processes exited: systemd removes a scope by itself) is fine.
      if (!(e instanceof TsrunError && /NoSuchUnit|not loaded/.test(e.message))) throw e;
    }
    await this.resetFailedUnit(unit).catch(() => undefined);
  }

  async setUnitProperties(unit: string, properties: Property[]): Promise<void> {
    if (properties.length) await this.call('SetUnitProperties', 'sba(sv)', [unit, true, properties], `SetUnitProperties ${unit}`);
  }

  async resetFailedUnit(unit: string): Promise<void> {
    await this.call('ResetFailedUnit', 's', [unit], `ResetFailedUnit ${unit}`);
  }

  private async managerProperty(name: string): Promise<unknown> {
    try {
      const reply = await this.bus.call(
        new Message({
          destination: SYSTEMD,
          path: OBJECT,
          interface: 'org.freedesktop.DBus.Properties',
          member: 'Get',
          signature: 'ss',
          body: [MANAGER, name],
        }),
      );
      return (reply?.body[0] as Variant | undefined)?.value;
    } catch (e) {
      throw dbusError(e, `the manager's ${name} through ${this.what}`);
    }
  }

  /** systemd's version number ("252.39-1~deb12u2" -> 252), as runc's systemdVersion. */
  async version(): Promise<number> {
    const v = String(await this.managerProperty('Version'));
    const m = /^"?v?(\d+)/.exec(v);
    return m ? Number(m[1]) : -1;
  }

  /** The manager's own cgroup (a user's systemd: /user.slice/user-UID.slice/user@UID.service). */
  async controlGroup(): Promise<string> {
    return String(await this.managerProperty('ControlGroup'));
  }
}

function dbusError(e: unknown, what: string): TsrunError {
  if (e instanceof TsrunError) return e;
  if (e instanceof DBusError) return new TsrunError('TSRUN_E_CGROUP', `${what}: ${e.type}: ${e.text}`);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
    return new TsrunError('TSRUN_E_CGROUP', `${what}: ${err.message} (is dbus running? systemd's D-Bus API is reached through the bus daemon)`);
  return new TsrunError('TSRUN_E_CGROUP', `${what}: ${err.message ?? String(e)}`);
}
