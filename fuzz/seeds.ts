// Seed corpora, generated (never committed) from what the tests and the runtime itself make:
// config.json files from the default spec, an image's config and a CRI request, with the sections
// the integration tests exercise; registry documents as test/fixtures/oci-builder writes them;
// the layers of test/integration/layers.test.ts; CRI requests shaped as the CRI tests and benches
// send them; sync-socket frames as a create exchanges them; and their native counterparts (the
// encoded plans, framed streams) for the libFuzzer harnesses.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { RuntimeConfig } from '../specs/oci/runtime-config';
import { compileCreatePlan, compileExecPlan, type CompileOptions } from '../src/oci/compile-plan';
import { defaultSpec } from '../src/oci/default-spec';
import { runtimeDefaultSeccomp } from '../src/oci/default-seccomp';
import { IMAGE_DEFAULT_CAPS, specFromImage } from '../src/oci/from-image';
import { encodePlan } from '../src/oci/plan-encode';
import { loadCri } from '../src/cri/proto';
import { AUFS_METADATA, EVERY_KIND, HOSTILE_LAYERS, HOSTILE_WHITEOUTS, OVERLAY_LOWER, OVERLAY_UPPER } from '../test/fixtures/layer-cases';
import { OciLayout, tarOf } from '../test/fixtures/oci-builder';

type Seeds = () => Promise<Buffer[]> | Buffer[];
const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o, null, 1));

function variant(edit: (c: RuntimeConfig) => void, base = defaultSpec()): RuntimeConfig {
  edit(base);
  return base;
}

/** config.json as the integration tests shape it, one section of the spec at a time. */
function configs(): RuntimeConfig[] {
  const image = specFromImage(
    { architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['A=1'], User: 'app:app', WorkingDir: '/srv', Volumes: { '/data': {} }, ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGQUIT' }, rootfs: { type: 'layers', diff_ids: [] } } as never,
    (f) => (f === '/etc/passwd' ? 'app:x:1000:1000::/:/bin/sh\n' : f === '/etc/group' ? 'app:x:1000:\n' : undefined),
    'seed:latest',
  );
  return [
    defaultSpec(),
    defaultSpec({ rootless: true, uid: 1000, gid: 1000 }),
    defaultSpec({ cgroupns: true }),
    image,
    variant((c) => {
      c.process!.terminal = false;
      c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 200 }];
      c.process!.oomScoreAdj = 500;
      c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 10], umask: 0o027 };
      c.process!.capabilities = { bounding: IMAGE_DEFAULT_CAPS, effective: IMAGE_DEFAULT_CAPS, permitted: IMAGE_DEFAULT_CAPS, inheritable: ['CAP_NET_RAW'], ambient: ['CAP_NET_RAW'] };
    }),
    variant((c) => {
      c.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.timeOffsets = { boottime: { secs: 86400, nanosecs: 0 }, monotonic: { secs: 3600 } };
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456', 'fs.mqueue.msg_max': '20' };
      c.hostname = 'seed';
      c.domainname = 'example.org';
    }),
    variant((c) => {
      c.mounts!.push(
        { destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'rro', 'rnosuid', 'rprivate'] },
        { destination: '/idmapped', type: 'bind', source: '/tmp', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=64k', 'mode=1777'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      );
      c.linux!.rootfsPropagation = 'rslave';
      c.linux!.maskedPaths = ['/proc/kcore', '/sys/firmware'];
      c.linux!.readonlyPaths = ['/proc/sys'];
      c.root!.readonly = true;
    }),
    variant((c) => {
      c.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }, { path: '/dev/fifo', type: 'p' }];
      c.linux!.resources = {
        memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, kernelTCP: 1 << 20, swappiness: 10, disableOOMKiller: false },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
        pids: { limit: 64 },
        blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
        unified: { 'memory.high': '64M' },
      };
      c.linux!.cgroupsPath = '/tsrun/seed';
    }),
    variant((c) => {
      c.process!.noNewPrivileges = true;
      c.linux!.seccomp = runtimeDefaultSeccomp(IMAGE_DEFAULT_CAPS) as never;
    }),
    variant((c) => {
      c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], listenerPath: '/run/seed.sock', listenerMetadata: 'seed', syscalls: [{ names: ['mkdir', 'getpid'], action: 'SCMP_ACT_NOTIFY' }, { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }] } as never;
    }),
    variant((c) => {
      const hook = { path: '/bin/true', args: ['true', 'x'], env: ['A=1'], timeout: 5 };
      c.hooks = { prestart: [hook], createRuntime: [hook], createContainer: [hook], startContainer: [hook], poststart: [hook], poststop: [hook] };
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/seed' } : n));
      c.annotations = { 'org.example': 'x' };
    }),
  ] as RuntimeConfig[];
}

const COMPILE: CompileOptions = { foreground: false, preserveFds: 2, events: true, hostBounding: (1n << 41n) - 1n };

function plans(): Buffer[] {
  const out: Buffer[] = [];
  for (const c of configs()) {
    try {
      out.push(encodePlan(compileCreatePlan(c, { ...COMPILE, rootfs: '/run/seed/rootfs', execFifo: '/run/seed/exec.fifo', noPivot: false, cgroup: { driver: 'v1', dirs: { memory: '/sys/fs/cgroup/memory/tsrun/seed' } } }).plan));
      out.push(encodePlan(compileExecPlan(c, c.process!, 1234, COMPILE).plan));
    } catch {
      /* a seed the compiler refuses (a section this host lacks) is left out */
    }
  }
  return out;
}

function frame(type: number, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(type, 0);
  hdr.writeUInt32LE(body.length, 4);
  return Buffer.concat([hdr, body]);
}

/** A create's exchange on the sync socket, both ways, as one stream. */
function frameStreams(): Buffer[] {
  const state = JSON.stringify({ ociVersion: '1.2.0', id: 'seed', status: 'creating', pid: 1234, bundle: '/run/seed' });
  const [plan] = plans();
  return [
    Buffer.concat([frame(1, plan!), frame(2, '1234'), frame(3, state), frame(6, 'mount\x00proc proc -> /proc\x00123'), frame(4, '')]),
    Buffer.concat([frame(6, 'clone\x00pid 1234 new namespaces: mount pid\x0045'), frame(5, '2\0mount proc on /proc: No such file or directory')]),
    frame(5, '13\0open /proc/self/oom_score_adj: Permission denied'),
  ];
}

async function layers(): Promise<Buffer[]> {
  const tars = [
    ...(await Promise.all([OVERLAY_LOWER, OVERLAY_UPPER, EVERY_KIND, AUFS_METADATA].map(tarOf))),
    ...(await Promise.all(HOSTILE_LAYERS.map(([, entries]) => tarOf(entries)))),
    ...(await Promise.all(HOSTILE_WHITEOUTS.map((name) => tarOf([{ name: 'a/b/', type: 'directory' }, { name, body: '' }])))),
  ];
  return [...tars, zlib.gzipSync(tars[0]!), zlib.gzipSync(await tarOf([{ name: 'zeros', body: Buffer.alloc(64 << 10) }]))];
}

function documents(): Buffer[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-fuzz-seed-'));
  try {
    const layout = new OciLayout(dir);
    const config = { Entrypoint: ['/bin/sh'], Cmd: ['-c', 'true'], Env: ['A=1', 'PATH=/bin'], User: '1000:1000', WorkingDir: '/w', Volumes: { '/v': {} }, ExposedPorts: { '8080/tcp': {} }, StopSignal: 'SIGINT' };
    const amd = layout.image([Buffer.from('layer one'), Buffer.from('layer two')], config);
    const arm = layout.image([Buffer.from('arm layer')], { Cmd: ['sh'] }, { arch: 'arm64' });
    const index = layout.index([amd, { ...arm, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } }]);
    const blob = (d: { digest: string }): Buffer => fs.readFileSync(path.join(dir, 'blobs', 'sha256', d.digest.slice(7)));
    const manifest = JSON.parse(blob(amd).toString()) as { config: { digest: string } };
    return [blob(index), blob(amd), blob(arm), blob(manifest.config), fs.readFileSync(path.join(dir, 'index.json'))];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** CreateContainer requests shaped as the CRI tests and benches send them. */
function criRequests(): Buffer[] {
  const encode = loadCri().RuntimeService.CreateContainer.requestSerialize as (r: unknown) => Buffer;
  const ns = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' };
  const sandbox = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    metadata: { name: 'seed', uid: '6f1b7c9e-0000-4000-8000-000000000001', namespace: 'default', attempt: 0 },
    hostname: 'seed',
    log_directory: '/var/log/pods/default_seed_uid',
    labels: { app: 'seed' },
    linux: { cgroup_parent: '/kubepods/besteffort/pod-seed', security_context: { namespace_options: ns }, sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } },
    ...extra,
  });
  const container = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    metadata: { name: 'app', attempt: 0 },
    image: { image: 'docker.io/library/busybox:latest' },
    command: ['sh', '-c'],
    args: ['echo hi; sleep 3600'],
    working_dir: '/',
    envs: [{ key: 'A', value: '1' }],
    log_path: 'app/0.log',
    linux: { resources: { memory_limit_in_bytes: String(64 << 20), cpu_shares: '512', cpu_quota: '50000', cpu_period: '100000', oom_score_adj: '500', hugepage_limits: [{ page_size: '2MB', limit: '0' }] }, security_context: { namespace_options: ns } },
    ...extra,
  });
  const reqs = [
    { config: container(), sandbox_config: sandbox() },
    { config: container({ tty: true, stdin: true }), sandbox_config: sandbox({ linux: { security_context: { namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE' } } } }) },
    {
      config: container({
        mounts: [{ container_path: '/data', host_path: '/var/lib/kubelet/pods/seed/volumes/data', readonly: true, recursive_read_only: true, propagation: 'PROPAGATION_PRIVATE' }, { container_path: '/dev/termination-log', host_path: '/var/lib/kubelet/pods/seed/containers/app/term' }],
        devices: [{ container_path: '/dev/fuse', host_path: '/dev/fuse', permissions: 'rwm' }],
        linux: { security_context: { namespace_options: { ...ns, pid: 'POD' }, run_as_user: { value: '1000' }, run_as_group: { value: '1000' }, supplemental_groups: ['5'], readonly_rootfs: true, no_new_privs: true, capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'], add_ambient_capabilities: ['NET_ADMIN'] }, seccomp: { profile_type: 'RuntimeDefault' }, masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] } },
      }),
      sandbox_config: sandbox(),
    },
    { config: container({ linux: { security_context: { privileged: true, namespace_options: ns } } }), sandbox_config: sandbox({ linux: { security_context: { privileged: true, namespace_options: ns } } }) },
    { config: container({ linux: { security_context: { run_as_username: 'nobody', seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/profile.json' } } } }), sandbox_config: sandbox({ linux: { security_context: { namespace_options: { ...ns, userns_options: { mode: 'POD', uids: [{ container_id: 0, host_id: 100000, length: 65536 }], gids: [{ container_id: 0, host_id: 100000, length: 65536 }] } } } } }) },
  ];
  return reqs.map((r) => encode({ pod_sandbox_id: 'f'.repeat(64), ...r }));
}

export const SEEDS: Record<string, Seeds> = {
  'oci-config': () => configs().map(json),
  'image-documents': documents,
  'layer-unpack': layers,
  'cri-specgen': criRequests,
  'sync-frames': () => frameStreams().map((s, i) => Buffer.concat([Buffer.from([[0, 7, 63][i % 3]!]), s])),
  'native-plan': plans,
  'native-sync': frameStreams,
};
