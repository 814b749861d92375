// specs/cri/api.proto must stay wire-identical to k8s.io/cri-api v0.34.0 (what kubelet and crictl
// 1.34 speak). These pins catch an accidental edit; the full comparison against upstream was done
// once when the file was written (see the commit message).
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CRI_LOADER_OPTIONS, CRI_PROTO_PATH, loadCri, type RuntimeServiceHandlers } from '../../src/cri/proto';

const RUNTIME_RPCS = [
  'Version',
  'RunPodSandbox',
  'StopPodSandbox',
  'RemovePodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'ListContainers',
  'ContainerStatus',
  'UpdateContainerResources',
  'ReopenContainerLog',
  'ExecSync',
  'Exec',
  'Attach',
  'PortForward',
  'ContainerStats',
  'ListContainerStats',
  'PodSandboxStats',
  'ListPodSandboxStats',
  'UpdateRuntimeConfig',
  'Status',
  'CheckpointContainer',
  'GetContainerEvents',
  'ListMetricDescriptors',
  'ListPodSandboxMetrics',
  'RuntimeConfig',
  'UpdatePodSandboxResources',
];
const IMAGE_RPCS = ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo'];

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options: { mapEntry?: boolean } | null;
}
const definition = protoLoader.loadSync(CRI_PROTO_PATH, CRI_LOADER_OPTIONS);

// name -> "type number": scalar or message/enum name, "repeated T", or "map<K,V>"
function fields(message: string): Record<string, string> {
  const def = (definition[`runtime.v1.${message}`] as { type?: MessageDescriptor } | undefined)?.type;
  if (!def?.field) throw new Error(`runtime.v1.${message} is not a message in ${CRI_PROTO_PATH}`);
  const typeOf = (f: FieldDescriptor) => f.typeName || f.type.replace('TYPE_', '').toLowerCase();
  return Object.fromEntries(
    def.field.map((f) => {
      const entry = def.nestedType.find((n) => n.name === f.typeName && n.options?.mapEntry);
      const type = entry ? `map<${typeOf(entry.field[0]!)},${typeOf(entry.field[1]!)}>` : `${f.label === 'LABEL_REPEATED' ? 'repeated ' : ''}${typeOf(f)}`;
      return [f.name, `${type} ${f.number}`];
    }),
  );
}

test('the services list every v0.34.0 RPC, in order, with the right types and streaming', (t) => {
  const cri = loadCri();
  t.deepEqual(Object.keys(cri.RuntimeService), RUNTIME_RPCS);
  t.deepEqual(Object.keys(cri.ImageService), IMAGE_RPCS);
  t.is(cri.RuntimeService.Version.path, '/runtime.v1.RuntimeService/Version');
  t.is(cri.ImageService.PullImage.path, '/runtime.v1.ImageService/PullImage');
  for (const name of RUNTIME_RPCS) {
    const m = cri.RuntimeService[name as keyof typeof cri.RuntimeService];
    t.false(m.requestStream, name);
    t.is(m.responseStream, name === 'GetContainerEvents', name);
  }
  const events = (definition['runtime.v1.RuntimeService'] as protoLoader.ServiceDefinition).GetContainerEvents!;
  t.is((events.requestType.type as { name: string }).name, 'GetEventsRequest');
  t.is((events.responseType.type as { name: string }).name, 'ContainerEventResponse');
  t.is(loadCri(), cri, 'the load is cached');
});

test('critical messages keep their field names, numbers and types', (t) => {
  t.deepEqual(fields('PodSandboxConfig'), {
    metadata: 'PodSandboxMetadata 1',
    hostname: 'string 2',
    log_directory: 'string 3',
    dns_config: 'DNSConfig 4',
    port_mappings: 'repeated PortMapping 5',
    labels: 'map<string,string> 6',
    annotations: 'map<string,string> 7',
    linux: 'LinuxPodSandboxConfig 8',
    windows: 'WindowsPodSandboxConfig 9',
  });
  t.deepEqual(fields('LinuxPodSandboxConfig'), {
    cgroup_parent: 'string 1',
    security_context: 'LinuxSandboxSecurityContext 2',
    sysctls: 'map<string,string> 3',
    overhead: 'LinuxContainerResources 4',
    resources: 'LinuxContainerResources 5',
  });
  t.deepEqual(fields('LinuxSandboxSecurityContext'), {
    namespace_options: 'NamespaceOption 1',
    selinux_options: 'SELinuxOption 2',
    run_as_user: 'Int64Value 3',
    readonly_rootfs: 'bool 4',
    supplemental_groups: 'repeated int64 5',
    privileged: 'bool 6',
    seccomp_profile_path: 'string 7',
    run_as_group: 'Int64Value 8',
    seccomp: 'SecurityProfile 9',
    apparmor: 'SecurityProfile 10',
    supplemental_groups_policy: 'SupplementalGroupsPolicy 11',
  });
  t.deepEqual(fields('NamespaceOption'), {
    network: 'NamespaceMode 1',
    pid: 'NamespaceMode 2',
    ipc: 'NamespaceMode 3',
    target_id: 'string 4',
    userns_options: 'UserNamespace 5',
  });
  t.deepEqual(fields('ContainerConfig'), {
    metadata: 'ContainerMetadata 1',
    image: 'ImageSpec 2',
    command: 'repeated string 3',
    args: 'repeated string 4',
    working_dir: 'string 5',
    envs: 'repeated KeyValue 6',
    mounts: 'repeated Mount 7',
    devices: 'repeated Device 8',
    labels: 'map<string,string> 9',
    annotations: 'map<string,string> 10',
    log_path: 'string 11',
    stdin: 'bool 12',
    stdin_once: 'bool 13',
    tty: 'bool 14',
    linux: 'LinuxContainerConfig 15',
    windows: 'WindowsContainerConfig 16',
    CDI_devices: 'repeated CDIDevice 17',
    stop_signal: 'Signal 18',
  });
  t.deepEqual(fields('LinuxContainerSecurityContext'), {
    capabilities: 'Capability 1',
    privileged: 'bool 2',
    namespace_options: 'NamespaceOption 3',
    selinux_options: 'SELinuxOption 4',
    run_as_user: 'Int64Value 5',
    run_as_username: 'string 6',
    readonly_rootfs: 'bool 7',
    supplemental_groups: 'repeated int64 8',
    apparmor_profile: 'string 9',
    seccomp_profile_path: 'string 10',
    no_new_privs: 'bool 11',
    run_as_group: 'Int64Value 12',
    masked_paths: 'repeated string 13',
    readonly_paths: 'repeated string 14',
    seccomp: 'SecurityProfile 15',
    apparmor: 'SecurityProfile 16',
    supplemental_groups_policy: 'SupplementalGroupsPolicy 17',
  });
  t.deepEqual(fields('LinuxContainerResources'), {
    cpu_period: 'int64 1',
    cpu_quota: 'int64 2',
    cpu_shares: 'int64 3',
    memory_limit_in_bytes: 'int64 4',
    oom_score_adj: 'int64 5',
    cpuset_cpus: 'string 6',
    cpuset_mems: 'string 7',
    hugepage_limits: 'repeated HugepageLimit 8',
    unified: 'map<string,string> 9',
    memory_swap_limit_in_bytes: 'int64 10',
  });
  t.deepEqual(fields('Mount'), {
    container_path: 'string 1',
    host_path: 'string 2',
    readonly: 'bool 3',
    selinux_relabel: 'bool 4',
    propagation: 'MountPropagation 5',
    uidMappings: 'repeated IDMapping 6',
    gidMappings: 'repeated IDMapping 7',
    recursive_read_only: 'bool 8',
    image: 'ImageSpec 9',
    image_sub_path: 'string 10',
  });
  t.deepEqual(fields('ContainerStatus'), {
    id: 'string 1',
    metadata: 'ContainerMetadata 2',
    state: 'ContainerState 3',
    created_at: 'int64 4',
    started_at: 'int64 5',
    finished_at: 'int64 6',
    exit_code: 'int32 7',
    image: 'ImageSpec 8',
    image_ref: 'string 9',
    reason: 'string 10',
    message: 'string 11',
    labels: 'map<string,string> 12',
    annotations: 'map<string,string> 13',
    mounts: 'repeated Mount 14',
    log_path: 'string 15',
    resources: 'ContainerResources 16',
    image_id: 'string 17',
    user: 'ContainerUser 18',
    stop_signal: 'Signal 19',
  });
  t.deepEqual(fields('PodSandboxStatus'), {
    id: 'string 1',
    metadata: 'PodSandboxMetadata 2',
    state: 'PodSandboxState 3',
    created_at: 'int64 4',
    network: 'PodSandboxNetworkStatus 5',
    linux: 'LinuxPodSandboxStatus 6',
    labels: 'map<string,string> 7',
    annotations: 'map<string,string> 8',
    runtime_handler: 'string 9',
  });
  t.deepEqual(fields('ExecRequest'), {
    container_id: 'string 1',
    cmd: 'repeated string 2',
    tty: 'bool 3',
    stdin: 'bool 4',
    stdout: 'bool 5',
    stderr: 'bool 6',
  });
  t.deepEqual(fields('AttachRequest'), { container_id: 'string 1', stdin: 'bool 2', tty: 'bool 3', stdout: 'bool 4', stderr: 'bool 5' });
  t.deepEqual(fields('ExecSyncResponse'), { stdout: 'bytes 1', stderr: 'bytes 2', exit_code: 'int32 3' });
  t.deepEqual(fields('ImageSpec'), { image: 'string 1', annotations: 'map<string,string> 2', user_specified_image: 'string 18', runtime_handler: 'string 19' });
  t.deepEqual(fields('Image'), {
    id: 'string 1',
    repo_tags: 'repeated string 2',
    repo_digests: 'repeated string 3',
    size: 'uint64 4',
    uid: 'Int64Value 5',
    username: 'string 6',
    spec: 'ImageSpec 7',
    pinned: 'bool 8',
  });
  t.deepEqual(fields('StatusResponse'), {
    status: 'RuntimeStatus 1',
    info: 'map<string,string> 2',
    runtime_handlers: 'repeated RuntimeHandler 3',
    features: 'RuntimeFeatures 4',
  });
});

test('enums keep their numbers', (t) => {
  const values = (name: string) =>
    Object.fromEntries((definition[`runtime.v1.${name}`] as { type: { value: { name: string; number: number }[] } }).type.value.map((v) => [v.name, v.number]));
  t.deepEqual(values('ContainerState'), { CONTAINER_CREATED: 0, CONTAINER_RUNNING: 1, CONTAINER_EXITED: 2, CONTAINER_UNKNOWN: 3 });
  t.deepEqual(values('PodSandboxState'), { SANDBOX_READY: 0, SANDBOX_NOTREADY: 1 });
  t.deepEqual(values('NamespaceMode'), { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 });
  t.deepEqual(values('MountPropagation'), { PROPAGATION_PRIVATE: 0, PROPAGATION_HOST_TO_CONTAINER: 1, PROPAGATION_BIDIRECTIONAL: 2 });
  t.like(values('Signal'), { RUNTIME_DEFAULT: 0, SIGKILL: 13, SIGTERM: 23, SIGRTMIN: 35, SIGRTMAX: 65 });
  t.deepEqual(values('CgroupDriver'), { SYSTEMD: 0, CGROUPFS: 1 });
});

test('messages encode and decode to the bytes protobuf defines', (t) => {
  const cri = loadCri();
  // RunPodSandboxRequest{config{metadata{name "p"}}, runtime_handler "h"}: tag 1 len 5 { tag 1 len 3 { tag 1 len 1 "p" } }, tag 2 len 1 "h"
  const run = cri.RuntimeService.RunPodSandbox.requestSerialize({ config: { metadata: { name: 'p' } }, runtime_handler: 'h' });
  t.is(run.toString('hex'), '0a050a030a0170' + '120168');
  // ContainerStatusResponse{status{id "c", state EXITED(2), created_at 300, exit_code 137}}
  const status = cri.RuntimeService.ContainerStatus.responseSerialize({ status: { id: 'c', state: 'CONTAINER_EXITED', created_at: 300, exit_code: 137 } });
  t.is(status.toString('hex'), '0a0b' + '0a0163' + '1802' + '20ac02' + '388901');
  // ExecRequest bytes as crictl sends them decode with every field present (defaults: true).
  const exec = cri.RuntimeService.Exec.requestDeserialize(Buffer.from('0a0163' + '12027368' + '1801' + '2801', 'hex'));
  t.deepEqual(exec, { container_id: 'c', cmd: ['sh'], tty: true, stdin: false, stdout: true, stderr: false });
  // int64 arrives as a decimal string, so nanosecond timestamps keep every digit.
  const created = cri.RuntimeService.ContainerStatus.responseDeserialize(
    cri.RuntimeService.ContainerStatus.responseSerialize({ status: { created_at: '1700000000123456789' } }),
  ) as { status: { created_at: string; state: string } };
  t.is(created.status.created_at, '1700000000123456789');
  t.is(created.status.state, 'CONTAINER_CREATED');
});

test('a client and a server built from loadCri talk over a unix socket', async (t) => {
  const cri = loadCri();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-proto-'));
  const socket = path.join(dir, 'cri.sock');
  const server = new grpc.Server();
  const version: RuntimeServiceHandlers['Version'] = (call, callback) => {
    callback(null, { version: call.request.version, runtime_name: 'tsrun', runtime_version: '0.1.0', runtime_api_version: 'v1' });
  };
  server.addService(cri.RuntimeService, { Version: version });
  t.teardown(() => {
    server.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
  );
  const client = new cri.runtimeClient(`unix://${socket}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const reply = await new Promise((resolve, reject) => client.Version({ version: '0.1.0' }, (e, r) => (e ? reject(e) : resolve(r))));
  t.deepEqual(reply, { version: '0.1.0', runtime_name: 'tsrun', runtime_version: '0.1.0', runtime_api_version: 'v1' });
  // An RPC the server does not implement fails with UNIMPLEMENTED, as crictl expects for optional ones.
  const err = await new Promise<grpc.ServiceError>((resolve) => client.Status({}, (e) => resolve(e!)));
  t.is(err.code, grpc.status.UNIMPLEMENTED);
});
