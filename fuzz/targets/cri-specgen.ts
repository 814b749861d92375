// Jazzer.js target: a CRI CreateContainerRequest as the server receives it. Bytes -> the server's
// own protobuf decoder (specs/cri/api.proto, the loader options the server uses) -> the checks
// RunPodSandbox makes of the pod's config -> the checks CreateContainer makes -> specgen (CRI
// ContainerConfig + PodSandboxConfig + an image config -> config.json) -> the runtime's loader
// and plan compiler. A request is refused with an InvalidArgument (or a TSRUN_E_* error) naming
// the field, or it yields a config.json that validates and compiles: specgen must never make a
// container that fails later, at StartContainer, on what the request said.
import * as path from 'node:path';
import type { ImageConfig } from '../../specs/oci/image';
import type { CreateContainerRequest__Output } from '../../src/cri/generated/runtime/v1/CreateContainerRequest';
import { invalid } from '../../src/cri/errors';
import { loadCri } from '../../src/cri/proto';
import { checkSandboxRequest } from '../../src/cri/sandbox/lifecycle';
import { containerSpec } from '../../src/cri/specgen/container-spec';
import type { SandboxRecord } from '../../src/cri/store/types';
import { checkName, logFile } from '../../src/cri/validate';
import { compileCreatePlan } from '../../src/oci/compile-plan';
import { parseConfig } from '../../src/oci/load-bundle';
import { refusal, scratchDir } from '../oracle';

const decode = loadCri().RuntimeService.CreateContainer.requestDeserialize as (b: Buffer) => CreateContainerRequest__Output;
const SCRATCH = scratchDir();
const HOST = path.join(SCRATCH, 'host');
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\ntty:x:5:app\nnogroup:x:65534:\napp:x:1000:\n';
const read = (f: string): string | undefined => (f === '/etc/passwd' ? PASSWD : f === '/etc/group' ? GROUP : undefined);
const IMAGE: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin:/usr/bin'], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [] } } as ImageConfig;
const CGROUP = { driver: 'v1' as const, dirs: { memory: '/sys/fs/cgroup/memory/fuzz' } };

/** An absolute host path the request names, moved under the scratch dir: specgen makes missing ones. */
const onScratch = (p: string): string => (p.startsWith('/') ? HOST + p : p);

function sandboxOf(req: CreateContainerRequest__Output): SandboxRecord {
  const config = req.sandbox_config!;
  const { maps } = checkSandboxRequest(config, '');
  const ns = config.linux?.security_context?.namespace_options;
  const hostNetwork = ns?.network === 'NODE';
  const run = '/run/tsrun-fuzz/pod';
  return {
    id: 'f'.repeat(64),
    name: 'fuzz',
    config,
    runtimeHandler: '',
    state: 'SANDBOX_READY',
    createdAt: '0',
    netns: hostNetwork ? undefined : `${run}/ns/net`,
    userns: maps ? `${run}/ns/user` : undefined,
    ipcns: ns?.ipc === 'NODE' ? undefined : `${run}/ns/ipc`,
    utsns: hostNetwork ? undefined : `${run}/ns/uts`,
    hostNetwork,
    hostIpc: ns?.ipc === 'NODE',
    hostPid: ns?.pid === 'NODE',
    additionalIps: [],
    cgroupParent: config.linux?.cgroup_parent || '/tsrun-fuzz/pod',
    ownCgroupParent: !config.linux?.cgroup_parent,
    hostname: config.hostname || config.metadata!.name.slice(0, 63),
    shm: `${run}/shm`,
    files: { resolv: `${run}/resolv.conf`, hosts: `${run}/hosts`, hostname: `${run}/hostname` },
  };
}

export function fuzz(data: Buffer): void {
  let req: CreateContainerRequest__Output;
  try {
    req = decode(data);
  } catch {
    return; // grpc-js answers a request it cannot decode itself (INTERNAL), before any handler
  }
  let spec;
  try {
    if (!req.sandbox_config) throw invalid('sandbox_config is required');
    const sandbox = sandboxOf(req);
    const config = req.config;
    // What createContainer checks before anything else.
    if (!config?.metadata) throw invalid('config.metadata is required');
    checkName('config.metadata.name', config.metadata.name);
    if (!config.image?.image) throw invalid('config.image.image is required');
    config.mounts = config.mounts.map((m) => ({ ...m, host_path: onScratch(m.host_path) }));
    const pidMode = config.linux?.security_context?.namespace_options?.pid ?? 'POD';
    const pidNamespace = pidMode === 'POD' || pidMode === 'TARGET' ? '/proc/1/ns/pid' : undefined;
    const gen = containerSpec({ id: 'c'.repeat(64), sandbox, config, image: IMAGE, imageName: 'fuzz:latest', read, cgroupsPath: `${sandbox.cgroupParent}/${'c'.repeat(64)}`, pidNamespace });
    logFile(sandbox.config.log_directory, config.log_path);
    spec = gen.spec;
  } catch (e) {
    return refusal(e);
  }
  // Whatever specgen accepted, the runtime must accept too: no late failure at StartContainer.
  const loaded = parseConfig(JSON.stringify(spec));
  compileCreatePlan(loaded, { foreground: false, preserveFds: 0, events: false, hostBounding: (1n << 41n) - 1n, rootfs: '/run/tsrun-fuzz/rootfs', execFifo: '/run/tsrun-fuzz/fifo', noPivot: false, cgroup: CGROUP });
}
