// The systemd cgroup driver: `tsrun --systemd-cgroup` has systemd make each container's cgroup as
// a transient scope (StartTransientUnit over D-Bus) with its resources as unit properties, as
// runc's systemd driver does. systemd must be PID 1: this host has none, so here the driver only
// says so; the lane runs these tests in a guest booted with systemd (run.sh --init systemd),
// where systemctl, systemd's own client, shows what tsrun asked of it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { detectCgroupLayout } from '../../src/cgroups/detect';
import { makeBundle } from '../fixtures/busybox';
import { newRoot, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const SYSTEMD = fs.existsSync('/run/systemd/system');
const LAYOUT = detectCgroupLayout();
const V2 = LAYOUT.mode === 'v2';
const root = newRoot();
const sd = (args: string[]): string[] => ['--systemd-cgroup', ...args];
/** No cgroup namespace: /proc/self/cgroup inside shows the whole path, as outside. */
const noCgroupns = (c: RuntimeConfig): void => {
  c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
};

/** A unit's properties as systemd reports them (`systemctl show -p ...`). */
function show(unit: string, props: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...props.flatMap((p) => ['-p', p])], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The unit's cgroup directory of `controller` (v2: the unified tree). */
function cgroupDir(cgroupPath: string, controller: string): string {
  if (V2) return path.join('/sys/fs/cgroup', cgroupPath);
  const h = LAYOUT.v1.find((x) => x.controllers.includes(controller))!;
  return path.join(h.mountpoint, cgroupPath);
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();

if (!SYSTEMD) {
  test('--systemd-cgroup where systemd is not PID 1: refused, saying so and what to use instead', (t) => {
    const id = uniqueId('sd');
    const r = tsrun(root, sd(['run', '--bundle', makeBundle(['true']), id]));
    t.is(r.code, 1);
    t.regex(
      r.stderr,
      /systemd cgroup flag passed, but systemd support for managing cgroups is not available \(systemd is not PID 1 here: no \/run\/systemd\/system\); use the cgroupfs driver/,
    );
    t.false(fs.existsSync(path.join(root, id)), 'nothing left behind');
  });
} else {
  test.serial('a container is a transient scope systemd made, with its resources as unit properties and in its cgroup files', async (t) => {
    const id = uniqueId('sd');
    const unit = `tsrun-${id}.scope`;
    const bundle = makeBundle(['sleep', '1000'], (c) => {
      noCgroupns(c);
      c.linux!.resources = {
        ...c.linux!.resources,
        memory: { limit: 96 * 1024 * 1024 },
        pids: { limit: 77 },
        cpu: { quota: 25000, period: 100000, shares: 512 },
      };
    });
    const r = tsrun(root, sd(['run', '--detach', '--bundle', bundle, id]));
    t.is(r.code, 0, r.stderr);
    try {
      const p = show(unit, [
        'ActiveState',
        'Slice',
        'Delegate',
        'ControlGroup',
        'TasksMax',
        'CPUQuotaPerSecUSec',
        V2 ? 'MemoryMax' : 'MemoryLimit',
        'MainPID',
        'Description',
      ]);
      t.is(p['ActiveState'], 'active');
      t.is(p['Slice'], 'system.slice');
      t.is(p['Delegate'], 'yes');
      t.is(p['ControlGroup'], `/system.slice/${unit}`);
      t.is(p[V2 ? 'MemoryMax' : 'MemoryLimit'], String(96 * 1024 * 1024));
      t.is(p['TasksMax'], '77');
      t.is(p['CPUQuotaPerSecUSec'], '250ms');
      t.is(p['Description'], `tsrun container ${unit}`);
      const pid = (JSON.parse(tsrun(root, ['state', id]).stdout) as { pid: number }).pid;
      const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      t.regex(own, new RegExp(V2 ? `^0::/system.slice/${unit}$` : `:memory:/system.slice/${unit}$`, 'm'));
      // The same limits in the files the kernel reads, whoever wrote them.
      const cgPath = `/system.slice/${unit}`;
      if (V2) {
        t.is(read(cgroupDir(cgPath, 'memory'), 'memory.max'), String(96 * 1024 * 1024));
        t.is(read(cgroupDir(cgPath, 'cpu'), 'cpu.max'), '25000 100000');
        t.is(read(cgroupDir(cgPath, 'pids'), 'pids.max'), '77');
      } else {
        t.is(read(cgroupDir(cgPath, 'memory'), 'memory.limit_in_bytes'), String(96 * 1024 * 1024));
        t.is(read(cgroupDir(cgPath, 'cpu'), 'cpu.cfs_quota_us'), '25000');
        t.is(read(cgroupDir(cgPath, 'pids'), 'pids.max'), '77');
        t.is(read(cgroupDir(cgPath, 'cpu'), 'cpu.shares'), '512');
      }
      // An exec joins the scope (through cgroupfs, as runc's exec does).
      const ex = tsrun(root, ['exec', id, 'cat', '/proc/self/cgroup']);
      t.is(ex.code, 0, ex.stderr);
      t.regex(ex.stdout, new RegExp(`${unit}$`, 'm'));
    } finally {
      t.is(tsrun(root, ['delete', '--force', id]).code, 0);
    }
    t.is(show(unit, ['LoadState'])['LoadState'], 'not-found', 'delete stopped the unit: systemd forgot it');
    t.false(fs.existsSync(cgroupDir(`/system.slice/${unit}`, 'memory')));
  });

  test.serial('cgroupsPath "slice:prefix:name" names the scope and its slice; anything else is refused in runc\'s words', (t) => {
    const id = uniqueId('sd');
    const unit = `tsrtest-${id}.scope`;
    const ok = tsrun(
      root,
      sd([
        'run',
        '--bundle',
        makeBundle(['cat', '/proc/self/cgroup'], (c) => {
          noCgroupns(c);
          c.linux!.cgroupsPath = `tsrun-test.slice:tsrtest:${id}`;
        }),
        id,
      ]),
    );
    t.is(ok.code, 0, ok.stderr);
    t.regex(ok.stdout, new RegExp(`/tsrun.slice/tsrun-test.slice/${unit}$`, 'm'), 'a dash nests the slice in tsrun.slice');
    t.is(show(unit, ['LoadState'])['LoadState'], 'not-found');
    const bad = tsrun(root, sd(['run', '--bundle', makeBundle(['true'], (c) => (c.linux!.cgroupsPath = '/not/a/unit')), uniqueId('sd')]));
    t.is(bad.code, 1);
    t.regex(bad.stderr, /linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/not\/a\/unit" instead/);
  });

  test.serial('update goes through systemd (SetUnitProperties) and cgroupfs; pause, resume and kill --all work on its scope', async (t) => {
    const id = uniqueId('sd');
    const unit = `tsrun-${id}.scope`;
    const bundle = makeBundle(['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], (c) => {
      c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * 1024 * 1024 } };
    });
    t.is(tsrun(root, sd(['run', '--detach', '--bundle', bundle, id])).code, 0);
    try {
      const up = tsrun(root, sd(['update', '--memory', '128m', '--pids-limit', '50', id]));
      t.is(up.code, 0, up.stderr);
      const p = show(unit, [V2 ? 'MemoryMax' : 'MemoryLimit', 'TasksMax']);
      t.is(p[V2 ? 'MemoryMax' : 'MemoryLimit'], String(128 * 1024 * 1024), 'systemd holds the new limit (it survives a daemon-reload)');
      t.is(p['TasksMax'], '50');
      t.is(read(cgroupDir(`/system.slice/${unit}`, 'memory'), V2 ? 'memory.max' : 'memory.limit_in_bytes'), String(128 * 1024 * 1024));

      t.is(tsrun(root, ['pause', id]).code, 0);
      t.is(JSON.parse(tsrun(root, ['state', id]).stdout).status, 'paused');
      t.is(tsrun(root, ['resume', id]).code, 0);
      t.is(JSON.parse(tsrun(root, ['state', id]).stdout).status, 'running');

      const procs = path.join(cgroupDir(`/system.slice/${unit}`, 'pids'), 'cgroup.procs');
      t.true(await waitFor(() => read(path.dirname(procs), 'cgroup.procs').split('\n').length >= 3), 'sh and its two sleeps');
      t.is(tsrun(root, ['kill', '--all', id, 'KILL']).code, 0);
      t.true(await waitFor(() => JSON.parse(tsrun(root, ['state', id]).stdout).status === 'stopped'));
    } finally {
      t.is(tsrun(root, ['delete', '--force', id]).code, 0);
    }
    t.is(show(unit, ['LoadState'])['LoadState'], 'not-found');
  });
}
