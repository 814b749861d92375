import type { Catalog, InspectTexts } from './types';

export const en: Catalog = {
  config_loaded: { title: 'config loaded', explain: 'config.json was parsed and checked against the OCI runtime spec before anything was created.' },
  state_reserved: { title: 'state reserved', explain: 'A directory for the container claims its id; a lock on it keeps two tsrun calls from racing.' },
  cgroup_created: { title: 'cgroup made', explain: "A control group holds the container's processes so the kernel can count and limit what they use." },
  cgroup_limits: {
    title: 'limits written',
    explain: 'Limits are files in the cgroup: writing memory.max or pids.max tells the kernel where to stop.',
    explainCgroupV1:
      'Limits are files in the cgroup: writing memory.limit_in_bytes or pids.max (cgroup v1 names, a directory per controller) tells the kernel where to stop.',
  },
  paused: { title: 'paused', explain: 'The freezer stops every process in the cgroup at once; they keep their memory but get no CPU.' },
  resumed: { title: 'resumed', explain: 'The freezer lets the processes run again, exactly where they stopped.' },
  updated: { title: 'limits updated', explain: "A running container's limits change by writing its cgroup files again." },
  cgroup_joined: {
    title: 'joined the cgroup',
    explain:
      "Before it runs anything the process enters its cgroup: it writes 0 into each hierarchy's tasks file itself (a thread that moves itself needs no global lock), or, in a user namespace, the runtime writes its pid into cgroup.procs. All it starts from then on is accounted.",
  },
  init_spawned: { title: 'init started', explain: 'The native init now exists in its new namespaces, waiting for the runtime to finish its part.' },
  hook: { title: 'hook', explain: 'An OCI hook ran with the container state on stdin, so other tools (networking, GPUs) can join in.' },
  created: { title: 'created', explain: 'Everything is ready; the init waits on the exec fifo until `start` opens it (the create/start split).' },
  started: { title: 'started', explain: "`start` opened the exec fifo: the init wrote one byte and called execve on the container's program." },
  signal: { title: 'signal sent', explain: 'kill delivers a signal to the init or, with --all, to every process in the cgroup.' },
  exited: {
    title: 'exited',
    explain: "The container's process ended. Its exit status (128 plus the signal's number when a signal ended it) is what `tsrun run` returns.",
  },
  deleted: { title: 'deleted', explain: 'The cgroup and the state directory are gone; nothing of the container remains.' },
  image_resolved: { title: 'reference resolved', explain: 'The registry answered the tag with a manifest (or an index of manifests) and its digest.' },
  platform_selected: { title: 'platform chosen', explain: 'An index lists one manifest per OS and CPU; the one for this machine was picked.' },
  blob_fetched: { title: 'blob fetched', explain: 'A layer or config was downloaded and its sha256 checked before it entered the content store.' },
  layer_unpacked: {
    title: 'layer unpacked',
    explain: 'A layer tar became a directory; whiteouts (.wh. files) became overlay whiteouts that hide lower files.',
  },
  image_stored: { title: 'image stored', explain: 'The image name now points at its manifest; its layers are shared with any image that has them.' },
  rootfs_mounted: { title: 'overlay mounted', explain: 'overlayfs stacks the read-only layers under a per-container upper dir that receives every write.' },
  setns: { title: 'joined a namespace', explain: "setns(2) moved the process into an existing namespace (another container's, or a pod's)." },
  clone: { title: 'clone', explain: 'clone(2) with CLONE_NEW* flags made the new namespaces and the process inside them in one step.' },
  id_maps: { title: 'id maps written', explain: "uid_map/gid_map say which host ids the user namespace's ids are: root inside can be nobody outside." },
  namespace: { title: 'namespace', explain: 'A namespace made after the others: the cgroup namespace once in its cgroup, the time namespace with offsets.' },
  rootfs: { title: 'rootfs prepared', explain: 'The rootfs was bind-mounted on itself and every mount made private, so nothing leaks back to the host.' },
  mount: { title: 'mount', explain: "A filesystem appears inside the container's mount namespace only; the host never sees it." },
  idmap: { title: 'idmapped mount', explain: 'mount_setattr attached an id mapping to a bind mount, so host-owned files look owned by the container.' },
  mount_sources: {
    title: 'bind sources opened',
    explain:
      "In a new user namespace the container's root may not reach some bind sources: the runtime, still real root, opened them in the container's mount namespace and handed them over as file descriptors.",
  },
  device: { title: 'device node', explain: "Only a few device files exist in the container's /dev; the devices cgroup decides which may be opened." },
  createContainer: { title: 'createContainer hook', explain: "This hook runs inside the container's namespaces, after the mounts and before pivot_root." },
  startContainer: { title: 'startContainer hook', explain: 'This hook runs inside the container, after start, just before the program.' },
  pivot_root: { title: 'pivot_root', explain: 'pivot_root(2) made the rootfs "/" and the old root was unmounted: the host filesystem is out of reach.' },
  hide_host_proc_sys: {
    title: 'host procfs/sysfs hidden',
    explain:
      "With --no-pivot the host's mounts stay in the namespace: its procfs and sysfs were unmounted first, so a nested user namespace cannot mount a fresh, unmasked procfs.",
  },
  chroot: {
    title: 'chroot',
    explain:
      'With --no-pivot (the rootfs moved to "/"), or without a mount namespace of its own, the container\'s root is set with chroot(2); pivot_root is safer.',
  },
  readonly_path: { title: 'read-only path', explain: 'A path (like /proc/sys) was remounted read-only so the container cannot change kernel settings.' },
  masked_path: { title: 'masked path', explain: 'A sensitive path (like /proc/kcore) was covered with an empty file or tmpfs.' },
  readonly_root: { title: 'read-only root', explain: 'The root filesystem was remounted read-only; only the mounts on top stay writable.' },
  hostname: { title: 'hostname', explain: 'The UTS namespace gives the container its own hostname.' },
  domainname: { title: 'domainname', explain: 'The UTS namespace also holds the NIS domain name.' },
  sysctl: { title: 'sysctl', explain: 'A namespaced kernel setting was written for this container only (e.g. net.* in its network namespace).' },
  console: {
    title: 'console',
    explain:
      "A pty was made inside the container; its master went to the caller over a unix socket (SCM_RIGHTS). A new container's /dev/console is then bound on it (from the pty's own fd, never through a path the image could turn into a symlink).",
  },
  oom_score_adj: { title: 'oom score', explain: 'oom_score_adj tells the OOM killer how willing it should be to pick this process.' },
  rlimit: { title: 'rlimit', explain: 'setrlimit caps a per-process resource such as open files; a hard limit can only go down without CAP_SYS_RESOURCE.' },
  cap_bounding: { title: 'bounding set', explain: 'Capabilities outside the bounding set are gone for good, for this process and all it starts.' },
  user: { title: 'user', explain: "setresuid/setresgid switched to the container's user; capabilities were kept across the switch on purpose." },
  capabilities: { title: 'capabilities', explain: 'capset(2) set what root powers the process keeps: effective, permitted, inheritable, ambient.' },
  seccomp: { title: 'seccomp', explain: 'A BPF filter now checks every system call; denied ones fail with an errno or kill the process.' },
  pod_namespaces: {
    title: 'pod namespaces pinned',
    explain:
      'New network, IPC and UTS namespaces were bind-mounted onto files, so they live with no process in them; every container of the pod joins them by path.',
  },
  pod_shm: { title: 'pod /dev/shm', explain: "One tmpfs is the pod's /dev/shm: containers sharing the IPC namespace also share this memory." },
  pod_network: {
    title: 'pod network (CNI)',
    explain: "The CNI plugins (bridge, host-local, portmap) gave the pod's network namespace a veth, an IP and port mappings.",
  },
  pod_files: { title: 'pod files', explain: 'hosts, resolv.conf and hostname are written once per pod and bind-mounted into each of its containers.' },
  pod_infra: {
    title: 'pod PID 1',
    explain: 'The pod shares one PID namespace: tsrun-pause runs as its PID 1 and reaps orphans, so containers can come and go.',
  },
  pod_stopped: { title: 'pod stopped', explain: "Its containers were stopped and CNI DEL removed the pod's interface, address and port mappings." },
  pod_removed: { title: 'pod removed', explain: "The pinned namespace files were unmounted and the pod's directories and cgroup removed." },
  container_spec: {
    title: 'config.json from the CRI request',
    explain: "The CRI request and the image config became an OCI config.json: command, user, capabilities, seccomp, the pod's namespaces.",
  },
  monitor_started: {
    title: 'monitor started',
    explain:
      "tsrun-monitor started the init with the config the server compiled, and became the container's parent: it writes the log and records the exit code.",
  },
  container_exited: {
    title: 'container exited',
    explain: "The monitor recorded the exit status on disk; the CRI reports it as the container's exit code and reason.",
  },
};

export const enInspect: InspectTexts = {
  namespaces: 'Each namespace is a kernel object with an inode; the same inode as the host means shared, another means isolated.',
  cgroup: 'The cgroup counts what the processes use and holds the limits the kernel enforces.',
  processes: "Every process in the cgroup has two pids: the host's, and the one its own pid namespace gives it (the init is 1).",
  capabilities: "Root's powers, split into capabilities; the bounding set is the most this process tree can ever have.",
  seccomp: '"filter" means a BPF program checks each system call; no_new_privs stops setuid programs from gaining privileges.',
  mounts:
    "The mount table of the container's own mount namespace, as /proc/PID/mountinfo shows it: each mount's own options, then its filesystem's. " +
    'A masked path is covered (a file by /dev/null, a directory by an empty read-only tmpfs), so the container cannot read what is there.',
  layers: "The image layers stacked by overlayfs under the container's writable upper dir.",
};
