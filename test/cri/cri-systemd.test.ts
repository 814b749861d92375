// The CRI with the systemd cgroup driver (`tsrun --systemd-cgroup cri`, containerd's
// SystemdCgroup = true): RuntimeConfig reports SYSTEMD (a kubelet takes it as its cgroupDriver),
// pods get slices and containers scopes in them, made by systemd. Where systemd is not PID 1
// (this host) the server still says SYSTEMD, and a container is refused clearly; the lane runs
// the rest in a guest booted with systemd, checked with systemctl.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { startCriServer, type CriServerHandle } from '../helpers/cri-server';

const SYSTEMD = fs.existsSync('/run/systemd/system');
let reg: Registry;
let cri: CriServerHandle;
let image: string;
let attempt = 0;

test.before(async () => {
  reg = await startRegistry('plain');
  const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-oci-')));
  layout.tag('1', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'] }));
  image = `${reg.addr}/cri/busybox:1`;
  push(layout.dir, '1', image);
  cri = await startCriServer({ systemd: true });
  await cri.img('PullImage', { image: { image } });
});

test.after.always(async () => {
  await cri?.stop();
  await reg?.stop();
});

function show(unit: string, props: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...props.flatMap((p) => ['-p', p])], { encoding: 'utf8' });
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function podConfig(name: string, linux: object = {}) {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}-${process.pid}`, attempt: attempt++ },
    hostname: name,
    log_directory: path.join(cri.dir, 'logs', name),
    linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } }, ...linux },
  };
}

const containerConfig = (name: string, script: string, linux: object = {}) => ({
  metadata: { name },
  image: { image },
  command: ['sh', '-c', script],
  log_path: `${name}.log`,
  linux,
});

test.serial('RuntimeConfig reports the systemd cgroup driver, which a kubelet then uses', async (t) => {
  const r = await cri.rt('RuntimeConfig', {});
  t.is(r.linux.cgroup_driver, 'SYSTEMD');
});

test.serial("a cgroupfs path as the pod's cgroup_parent is refused: the kubelet's driver is not systemd", async (t) => {
  const e = await t.throwsAsync(cri.rt('RunPodSandbox', { config: podConfig('cgfs', { cgroup_parent: '/kubepods/besteffort/pod123' }) }));
  t.regex(
    e!.message,
    /linux.cgroup_parent "\/kubepods\/besteffort\/pod123": the systemd cgroup driver takes a slice name \(NAME.slice\); is the kubelet's cgroupDriver cgroupfs\?/,
  );
});

if (!SYSTEMD) {
  test.serial('without systemd as PID 1, a container is refused, saying so', async (t) => {
    const config = podConfig('nosd');
    const { pod_sandbox_id } = await cri.rt('RunPodSandbox', { config });
    const e = await t.throwsAsync(async () => {
      const { container_id } = await cri.rt('CreateContainer', { pod_sandbox_id, config: containerConfig('c', 'true'), sandbox_config: config });
      await cri.rt('StartContainer', { container_id });
    });
    t.regex(e!.message, /systemd cgroup flag passed, but systemd support for managing cgroups is not available/);
    await cri.rt('RemovePodSandbox', { pod_sandbox_id });
  });
} else {
  test.serial('a pod is a slice with its limits; its container a scope in it; updates and removal go through systemd', async (t) => {
    // The pod's resources (no cgroup_parent: the server makes the pod's cgroup, a slice).
    const config = podConfig('web', {
      resources: { memory_limit_in_bytes: String(256 * 1024 * 1024), cpu_quota: '50000', cpu_period: '100000', cpu_shares: '256' },
    });
    const { pod_sandbox_id: pod } = await cri.rt('RunPodSandbox', { config });
    const slice = `${cri.cgroupSlice!.slice(0, -'.slice'.length)}-pod${pod.slice(0, 16)}.slice`;
    const s = show(slice, ['ActiveState', 'MemoryMax', 'CPUQuotaPerSecUSec', 'ControlGroup']);
    t.is(s['ActiveState'], 'active');
    t.is(s['MemoryMax'], String(256 * 1024 * 1024));
    t.is(s['CPUQuotaPerSecUSec'], '500ms');
    t.is(s['ControlGroup'], `/${cri.cgroupSlice}/${slice}`);

    const { container_id: id } = await cri.rt('CreateContainer', {
      pod_sandbox_id: pod,
      config: containerConfig('app', 'sleep 1000', { resources: { memory_limit_in_bytes: String(64 * 1024 * 1024) } }),
      sandbox_config: config,
    });
    await cri.rt('StartContainer', { container_id: id });
    const scope = `tsrun-${id}.scope`;
    const c = show(scope, ['ActiveState', 'Slice', 'MemoryMax', 'ControlGroup']);
    t.is(c['ActiveState'], 'active');
    t.is(c['Slice'], slice);
    t.is(c['MemoryMax'], String(64 * 1024 * 1024));
    const info = JSON.parse((await cri.rt('ContainerStatus', { container_id: id, verbose: true })).info.info) as { pid: number; cgroupsPath: string };
    t.is(info.cgroupsPath, `${slice}:tsrun:${id}`);
    t.is(fs.readFileSync(`/proc/${info.pid}/cgroup`, 'utf8').trim(), `0::${c['ControlGroup']}`);
    // Stats come from the scope's cgroup files.
    const stats = (await cri.rt('ContainerStats', { container_id: id })).stats;
    t.true(Number(stats.memory.working_set_bytes.value) > 0);

    await cri.rt('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(96 * 1024 * 1024) } });
    t.is(show(scope, ['MemoryMax'])['MemoryMax'], String(96 * 1024 * 1024));

    await cri.rt('StopContainer', { container_id: id, timeout: 1 });
    await cri.rt('RemoveContainer', { container_id: id });
    t.is(show(scope, ['LoadState'])['LoadState'], 'not-found', 'the scope is gone');
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod });
    t.is(show(slice, ['ActiveState'])['ActiveState'], 'inactive', 'the pod slice is stopped');
    t.false(fs.existsSync(path.join('/sys/fs/cgroup', s['ControlGroup']!)));
  });

  test.serial("a kubelet's pod slice (cgroup_parent) holds the container's scope; a shared PID namespace's pause too", async (t) => {
    const kubeSlice = `${cri.cgroupSlice!.slice(0, -'.slice'.length)}-kubepods-pod${process.pid}.slice`;
    const config = { ...podConfig('kube', { cgroup_parent: kubeSlice }) };
    config.linux.security_context.namespace_options.pid = 'POD';
    const { pod_sandbox_id: pod } = await cri.rt('RunPodSandbox', { config });
    const { container_id: id } = await cri.rt('CreateContainer', { pod_sandbox_id: pod, config: containerConfig('app', 'sleep 1000'), sandbox_config: config });
    await cri.rt('StartContainer', { container_id: id });
    t.is(show(`tsrun-${id}.scope`, ['Slice'])['Slice'], kubeSlice);
    t.is(show(`tsrun-infra-${pod.slice(0, 12)}.scope`, ['Slice'])['Slice'], kubeSlice, "tsrun-pause, the pod's PID 1");
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod });
    t.is(show(`tsrun-${id}.scope`, ['LoadState'])['LoadState'], 'not-found');
    // The kubelet's slice is the kubelet's: left for it to remove.
  });
}
