// What "no English left in --lang ja output" means, as a check: every run of ASCII letters in
// Japanese output is a technical identifier (a path, a flag, a file or field name, a syscall)
// or a term Japanese writes in Latin letters, on the list below. Anything else is an English
// word a translation missed.

/** Terms written in Latin letters in Japanese technical prose (as kernel.org/ja, kubernetes.io/ja do). */
export const LATIN_TERMS = new Set(
  [
    // kernel objects and tools, written as their names
    'ja', 'en', 'tasks', 'procfs', 'rwm', 'rw', 'rm', 'wm', 'monotonic', 'boottime', 'pid', 'init', 'cgroup', 'cgroups', 'freezer', 'mnt', 'mount', 'uts', 'ipc', 'net', 'network', 'user', 'time', 'tmpfs', 'overlay', 'overlayfs',
    'proc', 'sysfs', 'devpts', 'mqueue', 'shm', 'bind', 'upper', 'lower', 'work', 'whiteout', 'tar', 'fifo', 'exec', 'execve', 'clone', 'setns',
    'pivot', 'root', 'chroot', 'capability', 'capset', 'seccomp', 'filter', 'strict', 'setuid', 'setrlimit', 'rlimit', 'sysctl',
    'pty', 'unix', 'ns', 'nsfs', 'veth', 'eth', 'lo', 'bridge', 'hosts', 'hostname', 'resolv', 'conf', 'mknod', 'errno', 'bpf', 'max', 'inode', 'tty',
    'uid', 'gid', 'map', 'ambient', 'kcore', 'sys', 'dev', 'devices', 'memory', 'pids', 'cpu', 'cpuset', 'cpuacct', 'blkio', 'hugetlb', 'io', 'rdma', 'misc',
    'systemd', 'unified', 'kill', 'start', 'create', 'delete', 'run', 'pull', 'inspect', 'spec', 'state', 'cri', 'tsrun', 'pause', 'monitor',
    'prestart', 'poststart', 'poststop', 'createRuntime', 'createContainer', 'startContainer',
    // standards and projects
    'oci', 'cni', 'crictl', 'kubelet', 'kubernetes', 'pod', 'pods', 'namespace', 'containerd', 'runc', 'crun', 'docker', 'podman', 'shim', 'nginx', 'busybox',
    'linux', 'os', 'sha', 'digest', 'blob', 'config', 'json', 'manifest', 'index', 'layer', 'rootfs', 'id', 'ip', 'tcp', 'udp', 'sctp', 'dns', 'gpu', 'nis', 'oom', 'dhcp',
    'portmap', 'local', 'loopback', 'host', 'ipam', 'del', 'add', 'check', 'tun', 'api', 'grpc', 'mib', 'kib', 'gib', 'ms', 'us', 'ns', 'ko',
    // CRI reasons and fields, kept as the API spells them
    'completed', 'error', 'oomkilled', 'unknown', 'container', 'sandbox', 'log', 'args',
  ].map((w) => w.toLowerCase()),
);

/** The English words in `text`: ASCII letter runs that are not identifiers, listed terms, or names in 「」. */
export function englishWords(text: string): string[] {
  const out: string[] = [];
  // A name in 「」 is data (a pod's, a network's), said as it is.
  for (const m of text.replace(/「[^」]*」/g, '').matchAll(/[\x21-\x7e]+/g)) {
    const token = m[0].replace(/^[("'!?,;]+|[)"'!?,;:]+$/g, '');
    // An identifier has something a word does not: a digit, a path or option mark, an operator.
    if (/[0-9_./:=*$<>[\]@#%+\\|~`{},]|^-|-$|--/.test(token)) continue;
    for (const w of token.split(/[-()'"]+/)) {
      if (!/^[A-Za-z]{2,}$/.test(w)) continue;
      if (/^[A-Z0-9_]+$/.test(w)) continue; // an acronym or a constant: PID, CAP_SYS_ADMIN, SIGTERM
      if (!LATIN_TERMS.has(w.toLowerCase())) out.push(w);
    }
  }
  return out;
}
