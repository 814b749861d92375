// specgen, table-driven as containerd's spec opts tests are: a CRI CreateContainer request (and
// its pod) -> the config.json the runtime gets. Each case names the CRI field and what the OCI
// spec must then say; every spec produced must also pass the runtime's own validation. Pure:
// no root, no kernel (device cases read /dev/null's real numbers).
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeConfig } from '../../specs/oci/runtime-config';
import type { ImageConfig } from '../../specs/oci/image';
import { CAPABILITIES } from '../../src/oci/capabilities';
import { IMAGE_DEFAULT_CAPS } from '../../src/oci/from-image';
import { validateConfig } from '../../src/oci/validate';
import type { ContainerConfig__Output } from '../../src/cri/generated/runtime/v1/ContainerConfig';
import { containerSpec, processArgs, type ContainerSpec } from '../../src/cri/specgen/container-spec';
import type { SandboxRecord } from '../../src/cri/store/types';
import { loadCri } from '../../src/cri/proto';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nwheel:x:10:root,app\nnogroup:x:65534:\napp:x:1000:\naudio:x:29:app\n';
const files: Record<string, string> = { '/etc/passwd': PASSWD, '/etc/group': GROUP };
const read = (f: string): string | undefined => files[f];

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Entrypoint: ['/entry'], Cmd: ['serve'], Env: ['PATH=/bin', 'MODE=image'], WorkingDir: '/srv' },
} as ImageConfig;

/** The request as the server receives it: sent through the CRI's own encoding, defaults filled. */
function containerConfig(extra: object = {}): ContainerConfig__Output {
  const m = loadCri().RuntimeService.CreateContainer;
  const config = { metadata: { name: 'app' }, image: { image: 'example/app:1' }, log_path: 'app.log', ...extra };
  return (m.requestDeserialize(m.requestSerialize({ pod_sandbox_id: 'pod0', config })) as { config: ContainerConfig__Output }).config;
}

function sandbox(extra: Partial<SandboxRecord> = {}, podSecurity: object = {}, sysctls: Record<string, string> = {}): SandboxRecord {
  return {
    id: 'pod0',
    name: 'web_default_uid_0',
    config: { metadata: { name: 'web', namespace: 'default', uid: 'uid', attempt: 0 }, linux: { security_context: podSecurity, sysctls } },
    runtimeHandler: '',
    state: 'SANDBOX_READY',
    createdAt: '0',
    netns: '/run/tsrun/pods/pod0/net',
    ipcns: '/run/tsrun/pods/pod0/ipc',
    utsns: '/run/tsrun/pods/pod0/uts',
    hostNetwork: false,
    hostIpc: false,
    hostPid: false,
    additionalIps: [],
    cgroupParent: '/kubepods/pod0',
    ownCgroupParent: false,
    hostname: 'web',
    shm: '/run/tsrun/pods/pod0/shm',
    files: { resolv: '/run/tsrun/pods/pod0/resolv.conf', hosts: '/run/tsrun/pods/pod0/hosts', hostname: '/run/tsrun/pods/pod0/hostname' },
    ...extra,
  } as unknown as SandboxRecord;
}

function gen(
  config: ContainerConfig__Output,
  sb: SandboxRecord = sandbox(),
  pidNamespace: string | undefined = '/proc/42/ns/pid',
  image: ImageConfig = IMAGE,
): ContainerSpec {
  return containerSpec({ id: 'c0', sandbox: sb, config, image, imageName: 'example/app:1', read, cgroupsPath: '/kubepods/pod0/c0', pidNamespace });
}

const sc = (s: object): object => ({ linux: { security_context: s } });
const nsTypes = (g: ContainerSpec): string[] => (g.spec.linux?.namespaces ?? []).map((n) => `${n.type}${n.path ? `=${n.path}` : ''}`);
const mountOf = (g: ContainerSpec, dest: string) => g.spec.mounts?.find((m) => m.destination === dest);

test('processArgs: command replaces the entrypoint, args replace the cmd (Docker and the CRI agree)', (t) => {
  const table: [Partial<ContainerConfig__Output>, string[]][] = [
    [{}, ['/entry', 'serve']],
    [{ args: ['debug'] }, ['/entry', 'debug']],
    [{ command: ['/bin/sh'] }, ['/bin/sh']],
    [{ command: ['/bin/sh'], args: ['-c', 'true'] }, ['/bin/sh', '-c', 'true']],
  ];
  for (const [c, want] of table) t.deepEqual(processArgs(containerConfig(c), IMAGE), want, JSON.stringify(c));
});

interface Case {
  name: string;
  config: ContainerConfig__Output;
  sandbox?: SandboxRecord;
  pidNamespace?: string | null;
  check: (g: ContainerSpec, t: import('ava').ExecutionContext) => void;
}

const nullDev = fs.statSync('/dev/null');
const localhostProfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specgen-')), 'profile.json');
fs.writeFileSync(
  localhostProfile,
  JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] }),
);

const CASES: Case[] = [
  {
    name: 'image defaults: entrypoint+cmd, env (PATH kept), working dir, uid 0, the image default capabilities, no seccomp when none asked',
    config: containerConfig(),
    check: (g, t) => {
      t.deepEqual(g.spec.process?.args, ['/entry', 'serve']);
      t.true(g.spec.process?.env?.includes('MODE=image'));
      t.true(g.spec.process?.env?.includes('HOSTNAME=web'));
      t.is(g.spec.process?.cwd, '/srv');
      t.like(g.spec.process?.user, { uid: 0, gid: 0 });
      t.deepEqual([...(g.spec.process?.capabilities?.bounding ?? [])].sort(), [...IMAGE_DEFAULT_CAPS].sort());
      t.is(g.spec.linux?.seccomp, undefined);
      t.is(g.stopSignal, 'SIGTERM');
    },
  },
  {
    name: "envs override the image's by key; working_dir overrides WorkingDir",
    config: containerConfig({
      envs: [
        { key: 'MODE', value: 'request' },
        { key: 'EXTRA', value: '1' },
      ],
      working_dir: '/tmp',
    }),
    check: (g, t) => {
      t.true(g.spec.process?.env?.includes('MODE=request'));
      t.false(g.spec.process?.env?.includes('MODE=image'));
      t.true(g.spec.process?.env?.includes('EXTRA=1'));
      t.is(g.spec.process?.cwd, '/tmp');
    },
  },
  {
    name: 'run_as_user: the uid, its passwd gid, and (Merge) the groups /etc/group lists it in, primary first',
    config: containerConfig(sc({ run_as_user: { value: 1000 } })),
    check: (g, t) => {
      t.like(g.spec.process?.user, { uid: 1000, gid: 1000 });
      t.deepEqual(g.user.additionalGids, [1000, 10, 29]);
    },
  },
  {
    name: "run_as_username resolves through the image's /etc/passwd",
    config: containerConfig(sc({ run_as_username: 'nobody' })),
    check: (g, t) => t.like(g.spec.process?.user, { uid: 65534, gid: 65534 }),
  },
  {
    name: 'run_as_group and supplemental groups; Strict takes only the groups the request names',
    config: containerConfig(
      sc({ run_as_user: { value: 1000 }, run_as_group: { value: 3000 }, supplemental_groups: ['4000'], supplemental_groups_policy: 'Strict' }),
    ),
    check: (g, t) => {
      t.like(g.spec.process?.user, { uid: 1000, gid: 3000 });
      t.deepEqual(g.user.additionalGids, [3000, 4000]);
    },
  },
  {
    name: 'capabilities: add and drop by CRI name, with or without CAP_',
    config: containerConfig(sc({ capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['CAP_CHOWN'], add_ambient_capabilities: [] } })),
    check: (g, t) => {
      const caps = g.spec.process?.capabilities?.effective ?? [];
      t.true(caps.includes('CAP_NET_ADMIN'));
      t.false(caps.includes('CAP_CHOWN'));
    },
  },
  {
    name: 'capabilities: drop ALL then add one keeps only that one',
    config: containerConfig(sc({ capabilities: { add_capabilities: ['NET_BIND_SERVICE'], drop_capabilities: ['ALL'], add_ambient_capabilities: [] } })),
    check: (g, t) => t.deepEqual(g.spec.process?.capabilities?.bounding, ['CAP_NET_BIND_SERVICE']),
  },
  {
    name: 'ambient capabilities are also inheritable',
    config: containerConfig(sc({ capabilities: { add_capabilities: ['NET_RAW'], drop_capabilities: [], add_ambient_capabilities: ['NET_RAW'] } })),
    check: (g, t) => {
      t.deepEqual(g.spec.process?.capabilities?.ambient, ['CAP_NET_RAW']);
      t.deepEqual(g.spec.process?.capabilities?.inheritable, ['CAP_NET_RAW']);
    },
  },
  {
    name: "privileged: every capability, nothing masked, sysfs writable, no seccomp, the host's devices",
    config: containerConfig(sc({ privileged: true, seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } })),
    sandbox: sandbox({}, { privileged: true }),
    check: (g, t) => {
      t.is(g.spec.process?.capabilities?.bounding?.length, CAPABILITIES.length);
      t.deepEqual(g.spec.linux?.maskedPaths, []);
      t.false(mountOf(g, '/sys')?.options?.includes('ro'));
      t.is(g.spec.linux?.seccomp, undefined);
      t.true((g.spec.linux?.devices ?? []).some((d) => d.path === '/dev/null'));
    },
  },
  {
    name: "readonly_rootfs: a read-only root, and the pod's /etc files read-only too",
    config: containerConfig(sc({ readonly_rootfs: true })),
    check: (g, t) => {
      t.true(g.spec.root?.readonly);
      t.true(mountOf(g, '/etc/hosts')?.options?.includes('ro'));
      t.true(mountOf(g, '/etc/resolv.conf')?.options?.includes('ro'));
    },
  },
  {
    name: 'no_new_privs',
    config: containerConfig(sc({ no_new_privs: true })),
    check: (g, t) => t.true(g.spec.process?.noNewPrivileges),
  },
  {
    name: 'seccomp RuntimeDefault: a deny-list profile that errors by default-allow exceptions',
    config: containerConfig(sc({ seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } })),
    check: (g, t) => {
      t.truthy(g.spec.linux?.seccomp);
      t.true((g.spec.linux?.seccomp?.syscalls?.length ?? 0) > 0);
    },
  },
  {
    name: 'seccomp Localhost: the profile file, as written',
    config: containerConfig(sc({ seccomp: { profile_type: 'Localhost', localhost_ref: localhostProfile } })),
    check: (g, t) => t.is(g.spec.linux?.seccomp?.defaultAction, 'SCMP_ACT_ERRNO'),
  },
  {
    name: 'seccomp: the legacy seccomp_profile_path "unconfined" gives none',
    config: containerConfig(sc({ seccomp_profile_path: 'unconfined' })),
    check: (g, t) => t.is(g.spec.linux?.seccomp, undefined),
  },
  {
    name: "namespaces: the pod's network, IPC and UTS by path, the pod's PID namespace (the default POD), a mount and cgroup namespace of its own",
    config: containerConfig(),
    check: (g, t) =>
      t.deepEqual(nsTypes(g), [
        'mount',
        'network=/run/tsrun/pods/pod0/net',
        'ipc=/run/tsrun/pods/pod0/ipc',
        'uts=/run/tsrun/pods/pod0/uts',
        'pid=/proc/42/ns/pid',
        'cgroup',
      ]),
  },
  {
    name: "namespaces: pid CONTAINER makes its own; NODE on a hostPID pod joins the host's (no entry)",
    config: containerConfig(sc({ namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '', userns_options: null } })),
    check: (g, t) => {
      t.true(nsTypes(g).includes('pid'));
      const host = gen(
        containerConfig(sc({ namespace_options: { network: 'NODE', pid: 'NODE', ipc: 'NODE', target_id: '', userns_options: null } })),
        sandbox({ hostPid: true, hostNetwork: true, netns: undefined, ipcns: undefined, utsns: undefined }),
        undefined,
      );
      t.deepEqual(nsTypes(host), ['mount', 'cgroup']);
    },
  },
  {
    name: "a hostNetwork pod without a UTS namespace of its own keeps the host's hostname",
    config: containerConfig(),
    sandbox: sandbox({ hostNetwork: true, netns: undefined, utsns: undefined }),
    check: (g, t) => t.is(g.spec.hostname, undefined),
  },
  {
    name: "mounts: a volume wins over the pod's file at the same path; bidirectional makes the rootfs rshared, host-to-container rslave",
    config: containerConfig({
      mounts: [
        {
          container_path: '/etc/hosts',
          host_path: '/etc/hosts',
          readonly: true,
          selinux_relabel: false,
          propagation: 'PROPAGATION_PRIVATE',
          uidMappings: [],
          gidMappings: [],
          recursive_read_only: false,
          image: null,
          image_sub_path: '',
        },
        {
          container_path: '/data',
          host_path: os.tmpdir(),
          readonly: false,
          selinux_relabel: false,
          propagation: 'PROPAGATION_HOST_TO_CONTAINER',
          uidMappings: [],
          gidMappings: [],
          recursive_read_only: false,
          image: null,
          image_sub_path: '',
        },
      ] as never,
    }),
    check: (g, t) => {
      t.deepEqual(
        g.spec.mounts?.filter((m) => m.destination === '/etc/hosts').map((m) => m.source),
        ['/etc/hosts'],
      );
      t.deepEqual(mountOf(g, '/data')?.options, ['rbind', 'rslave']);
      t.is(g.spec.linux?.rootfsPropagation, 'rslave');
    },
  },
  {
    name: 'resources: shares, quota, period and memory become linux.resources; devices default-deny',
    config: containerConfig({
      linux: {
        resources: {
          cpu_shares: '512',
          cpu_quota: '50000',
          cpu_period: '100000',
          memory_limit_in_bytes: String(64 << 20),
          oom_score_adj: '0',
          cpuset_cpus: '',
          cpuset_mems: '',
          hugepage_limits: [],
          unified: {},
          memory_swap_limit_in_bytes: '0',
        },
        security_context: null,
      } as never,
    }),
    check: (g, t) => {
      t.like(g.spec.linux?.resources?.cpu, { shares: 512, quota: 50000, period: 100000 });
      t.is(g.spec.linux?.resources?.memory?.limit, 64 << 20);
      t.deepEqual(g.spec.linux?.resources?.devices?.[0], { allow: false, access: 'rwm' });
    },
  },
  {
    name: 'devices: a host device node appears at its container path with its real numbers, and the cgroup allows it',
    config: containerConfig({ devices: [{ host_path: '/dev/null', container_path: '/dev/mynull', permissions: 'rw' }] as never }),
    check: (g, t) => {
      const d = g.spec.linux?.devices?.find((x) => x.path === '/dev/mynull');
      t.like(d, { type: 'c', major: Math.floor(nullDev.rdev / 256) & 0xfff, minor: nullDev.rdev & 0xff });
      t.true(
        (g.spec.linux?.resources?.devices ?? []).some((r) => r.allow && r.type === 'c' && r.major === d?.major && r.minor === d?.minor && r.access === 'rw'),
      );
    },
  },
  {
    name: 'sysctls come from the pod',
    config: containerConfig(),
    sandbox: sandbox({}, {}, { 'net.ipv4.ip_unprivileged_port_start': '0' }),
    check: (g, t) => t.deepEqual(g.spec.linux?.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0' }),
  },
  {
    name: "stop signal: the request's, else the image's StopSignal, else SIGTERM",
    config: containerConfig({ stop_signal: 'SIGINT' } as never),
    check: (g, t) => {
      t.is(g.stopSignal, 'SIGINT');
      t.is(gen(containerConfig(), sandbox(), '/proc/42/ns/pid', { ...IMAGE, config: { ...IMAGE.config, StopSignal: 'SIGQUIT' } }).stopSignal, 'SIGQUIT');
    },
  },
  {
    name: 'masked and readonly paths as the kubelet sends them',
    config: containerConfig(sc({ masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] })),
    check: (g, t) => {
      t.deepEqual(g.spec.linux?.maskedPaths, ['/proc/kcore']);
      t.deepEqual(g.spec.linux?.readonlyPaths, ['/proc/sys']);
    },
  },
  {
    name: 'a pod with its own user namespace joins it first and mounts no cgroup v1 hierarchy',
    config: containerConfig(),
    sandbox: sandbox({ userns: '/run/tsrun/pods/pod0/user' }),
    check: (g, t) => {
      t.deepEqual(nsTypes(g).slice(0, 2), ['mount', 'user=/run/tsrun/pods/pod0/user']);
      t.false((g.spec.mounts ?? []).some((m) => m.type === 'cgroup'));
    },
  },
  {
    name: 'annotations say what kubelet tools look for',
    config: containerConfig({ annotations: { team: 'a' } }),
    check: (g, t) =>
      t.like(g.spec.annotations, {
        team: 'a',
        'io.kubernetes.cri.container-type': 'container',
        'io.kubernetes.cri.sandbox-id': 'pod0',
        'io.kubernetes.cri.container-name': 'app',
      }),
  },
];

for (const c of CASES) {
  test(`specgen: ${c.name}`, (t) => {
    const g = gen(c.config, c.sandbox ?? sandbox(), c.pidNamespace === null ? undefined : (c.pidNamespace ?? '/proc/42/ns/pid'));
    c.check(g, t);
    // What the runtime will be given must pass its own validation.
    const parsed = RuntimeConfig.safeParse(JSON.parse(JSON.stringify(g.spec)));
    t.true(parsed.success, parsed.success ? '' : parsed.error.message);
    if (parsed.success) t.is(validateConfig(parsed.data, { requireProcess: true })?.message, undefined);
  });
}

const REFUSED: [string, ContainerConfig__Output, RegExp, SandboxRecord?][] = [
  ['a privileged container in a pod that is not privileged', containerConfig(sc({ privileged: true })), /pod sandbox is not privileged/],
  [
    'an unknown capability',
    containerConfig(sc({ capabilities: { add_capabilities: ['NOT_A_CAP'], drop_capabilities: [], add_ambient_capabilities: [] } })),
    /unknown capability "NOT_A_CAP"/,
  ],
  ['run_as_group without a user', containerConfig(sc({ run_as_group: { value: 5 } })), /run_as_group needs/],
  [
    'a relative container_path',
    containerConfig({ mounts: [{ container_path: 'data', host_path: '/tmp', propagation: 'PROPAGATION_PRIVATE' }] as never }),
    /mounts\[0\]\.container_path "data": must be an absolute path/,
  ],
  [
    'recursive_read_only without readonly',
    containerConfig({
      mounts: [{ container_path: '/d', host_path: '/tmp', readonly: false, recursive_read_only: true, propagation: 'PROPAGATION_PRIVATE' }] as never,
    }),
    /recursive_read_only needs readonly/,
  ],
  [
    'a device that is not one',
    containerConfig({ devices: [{ host_path: '/etc/hostname', container_path: '/dev/x', permissions: 'rwm' }] as never }),
    /devices\[0\]\.host_path \/etc\/hostname: not a device/,
  ],
  [
    'a seccomp profile path that is not absolute',
    containerConfig(sc({ seccomp: { profile_type: 'Localhost', localhost_ref: 'profile.json' } })),
    /must be an absolute path/,
  ],
  ['a user the image does not have', containerConfig(sc({ run_as_username: 'ghost' })), /ghost/],
];

for (const [name, config, why, sb] of REFUSED) {
  test(`specgen refuses ${name}, naming the field`, (t) => {
    const e = t.throws(() => gen(config, sb ?? sandbox()));
    t.regex(e?.message ?? '', why);
  });
}
