// The pod's PID 1 when its containers share one PID namespace: tsrun's static pause binary,
// alone in a read-only rootfs, so a pod needs no image for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../../specs/oci/runtime-config';
import { defaultSpec } from '../../oci/default-spec';
import { PAUSE_BINARY } from '../../sys/native';
import { containerCgroupsPath } from '../cgroup-paths';
import type { SandboxRecord } from '../store/types';

export function writeInfraBundle(dir: string, sandbox: SandboxRecord): string {
  const bundle = path.join(dir, 'infra');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true, mode: 0o755 });
  for (const d of ['proc', 'dev', 'sys']) fs.mkdirSync(path.join(bundle, 'rootfs', d), { recursive: true });
  fs.copyFileSync(PAUSE_BINARY, path.join(bundle, 'rootfs', 'pause'));
  fs.chmodSync(path.join(bundle, 'rootfs', 'pause'), 0o755);
  const spec: RuntimeConfig = defaultSpec();
  spec.process = { ...spec.process!, terminal: false, args: ['/pause'], env: [], capabilities: {}, noNewPrivileges: true };
  delete spec.process.rlimits;
  spec.root = { path: 'rootfs', readonly: true };
  spec.hostname = sandbox.hostname;
  spec.mounts = spec.mounts!.filter((m) => m.destination === '/proc' || m.destination === '/dev');
  const ns: NonNullable<NonNullable<RuntimeConfig['linux']>['namespaces']> = [{ type: 'pid' }, { type: 'mount' }];
  if (sandbox.userns) ns.push({ type: 'user', path: sandbox.userns });
  if (sandbox.netns) ns.push({ type: 'network', path: sandbox.netns });
  if (sandbox.ipcns) ns.push({ type: 'ipc', path: sandbox.ipcns });
  if (sandbox.utsns) ns.push({ type: 'uts', path: sandbox.utsns });
  if (!sandbox.utsns) delete spec.hostname;
  spec.linux = { ...spec.linux!, namespaces: ns, cgroupsPath: containerCgroupsPath(sandbox, `infra-${sandbox.id.slice(0, 12)}`) };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
  return bundle;
}
