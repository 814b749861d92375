// Every verb's flags and their help, as plain data: the one table that both parses a command
// line (each verb module passes its own entry to parseFlags) and prints `tsrun VERB --help`,
// so the two cannot drift. No imports of the verbs themselves: loading it costs a verb nothing.
import type { FlagSpec } from './args';

export interface FlagHelp extends FlagSpec {
  help: string;
  /** what the value is called in the usage (DIR, FILE, N); `values` lists them instead */
  value?: string;
}

export interface CommandHelp {
  /** one line, for the list of commands */
  summary: string;
  /** what follows `tsrun VERB` (one line per form) */
  usage: readonly string[];
  flags: readonly FlagHelp[];
  /** flags end at the first positional argument (what follows is the container's command) */
  stopAtPositional?: boolean;
  /** takes --explain[=text|json] and --lang (main takes them out before the verb's own flags) */
  explain?: boolean;
  /** more lines after the flags */
  notes?: readonly string[];
}

const CREATE_FLAGS: readonly FlagHelp[] = [
  {
    name: 'bundle',
    alias: 'b',
    type: 'string',
    value: 'DIR',
    help: 'the bundle: a directory with config.json and the root filesystem (default: the current directory)',
  },
  { name: 'pid-file', type: 'string', value: 'FILE', help: "write the container's pid to FILE" },
  { name: 'console-socket', type: 'string', value: 'SOCKET', help: "send the terminal's master fd to this unix socket (process.terminal: true)" },
  { name: 'preserve-fds', type: 'int', value: 'N', help: 'pass N more fds (3 to 3+N-1) to the container' },
  { name: 'no-pivot', type: 'bool', help: 'chroot into the rootfs instead of pivot_root (for a rootfs on a ramdisk)' },
  { name: 'no-new-keyring', type: 'bool', help: "keep the caller's session keyring (accepted as runc's)" },
];

const FORMAT = (values: readonly string[], what: string): FlagHelp => ({ name: 'format', alias: 'f', type: 'string', values, help: what });

export const COMMANDS = {
  create: {
    summary: 'create a container from a bundle; its process waits for `start`',
    usage: ['[options] ID'],
    flags: CREATE_FLAGS,
    explain: true,
  },
  start: { summary: "start a created container's process", usage: ['ID'], flags: [], explain: true },
  run: {
    summary: 'create and start a container, wait for it to exit, then delete it',
    usage: ['[options] ID', '[options] BUNDLE_DIR/    (a directory holding config.json, under a generated id)'],
    flags: [
      ...CREATE_FLAGS,
      { name: 'detach', alias: 'd', type: 'bool', help: 'return once the container is running (remove it later with `tsrun delete`)' },
      { name: 'keep', type: 'bool', help: 'keep the container after it exits (see it with `tsrun state`, remove it with `tsrun delete`)' },
    ],
    explain: true,
    notes: [
      "The command is the bundle's process.args in config.json. `tsrun spec` writes an interactive sh",
      'with a terminal: set "args" (and "terminal": false when no terminal is at hand) to run something',
      'else, or make a bundle from an image with its command: tsrun bundle IMAGE DIR -- CMD [ARG...]',
    ],
  },
  exec: {
    summary: 'run another process in a running container',
    usage: ['[options] ID COMMAND [ARG...]', '[options] -p process.json ID'],
    flags: [
      { name: 'process', alias: 'p', type: 'string', value: 'FILE', help: 'the process as JSON (the process object of config.json)' },
      { name: 'console-socket', type: 'string', value: 'SOCKET', help: "send the terminal's master fd to this unix socket (with --tty)" },
      { name: 'pid-file', type: 'string', value: 'FILE', help: "write the process's pid to FILE" },
      { name: 'detach', alias: 'd', type: 'bool', help: 'do not wait for the process' },
      { name: 'tty', alias: 't', type: 'bool', help: 'give the process a terminal' },
      { name: 'cwd', type: 'string', value: 'DIR', help: 'working directory of the process' },
      { name: 'env', alias: 'e', type: 'list', value: 'NAME=VALUE', help: 'add an environment variable (repeat for more)' },
      { name: 'user', alias: 'u', type: 'string', value: 'UID[:GID]', help: 'run as this user' },
      { name: 'additional-gids', alias: 'g', type: 'list', value: 'GID', help: 'add a supplementary group (repeat for more)' },
      { name: 'cap', alias: 'c', type: 'list', value: 'CAP', help: 'add a capability (repeat for more)' },
      { name: 'no-new-privs', type: 'bool', help: 'set no_new_privs: setuid programs gain nothing' },
      { name: 'preserve-fds', type: 'int', value: 'N', help: 'pass N more fds (3 to 3+N-1) to the process' },
      { name: 'process-label', type: 'string', value: 'LABEL', help: "SELinux label (runc's flag; this runtime has no SELinux support)" },
      { name: 'apparmor', type: 'string', value: 'PROFILE', help: "AppArmor profile (runc's flag; this runtime has no AppArmor support)" },
      {
        name: 'cgroup',
        type: 'list',
        value: '[CTRL[,CTRL]:]SUB',
        help: "run in an existing sub-cgroup of the container's (all controllers, or the ones named)",
      },
      { name: 'ignore-paused', type: 'bool', help: 'exec into a paused container (the process runs once it is resumed)' },
    ],
    stopAtPositional: true,
    explain: true,
  },
  kill: {
    summary: "send a signal to a container's process (default SIGTERM)",
    usage: ['[options] ID [SIGNAL]'],
    flags: [{ name: 'all', alias: 'a', type: 'bool', help: "signal every process in the container's cgroup" }],
    explain: true,
  },
  delete: {
    summary: 'delete a stopped container (its cgroup and state)',
    usage: ['[options] ID'],
    flags: [{ name: 'force', alias: 'f', type: 'bool', help: 'kill it first if it still runs (also clears a container a killed tsrun left in "creating")' }],
    explain: true,
  },
  state: { summary: "print a container's state as JSON (the OCI state)", usage: ['ID'], flags: [] },
  list: {
    summary: 'list containers',
    usage: ['[options]'],
    flags: [FORMAT(['table', 'json'], 'output format'), { name: 'quiet', alias: 'q', type: 'bool', help: 'print the ids only' }],
  },
  ps: {
    summary: "list a container's processes",
    usage: ['[options] ID [PS_ARGS...]    (PS_ARGS go to ps(1), e.g. `tsrun ps ID -o pid,comm`)'],
    flags: [FORMAT(['table', 'json'], 'output format (json: the pids)')],
    stopAtPositional: true,
  },
  spec: {
    summary: 'write a default config.json (the same defaults as runc: an interactive sh with a terminal)',
    usage: ['[options]'],
    flags: [
      { name: 'bundle', alias: 'b', type: 'string', value: 'DIR', help: 'write DIR/config.json (default: the current directory)' },
      { name: 'rootless', type: 'bool', help: 'a config for a user namespace mapping your own uid and gid' },
      { name: 'seccomp', type: 'bool', help: "add the CRI's RuntimeDefault seccomp profile (runc's spec has none)" },
    ],
  },
  features: { summary: 'print what this runtime supports (the runtime-spec features.json)', usage: [''], flags: [] },
  pause: { summary: 'freeze every process of a container (cgroup freezer)', usage: ['ID'], flags: [], explain: true },
  resume: { summary: 'thaw a paused container', usage: ['ID'], flags: [], explain: true },
  update: {
    summary: "change a container's resource limits",
    usage: ['[options] ID'],
    flags: [
      { name: 'resources', alias: 'r', type: 'string', value: 'FILE', help: 'the linux.resources object as JSON (- reads stdin)' },
      { name: 'memory', type: 'string', value: 'BYTES', help: 'memory limit (64m, 1g; -1: none)' },
      { name: 'memory-reservation', type: 'string', value: 'BYTES', help: 'memory soft limit' },
      { name: 'memory-swap', type: 'string', value: 'BYTES', help: 'memory plus swap limit (-1: none)' },
      { name: 'kernel-memory', type: 'string', value: 'BYTES', help: 'kernel memory limit (deprecated by the kernel; accepted and ignored, as runc does)' },
      { name: 'kernel-memory-tcp', type: 'string', value: 'BYTES', help: 'kernel TCP buffer limit (cgroup v1 only)' },
      { name: 'cpu-shares', alias: 'cpu-share', type: 'int', value: 'N', help: 'relative CPU weight' },
      { name: 'cpu-quota', type: 'string', value: 'USEC', help: 'CPU time per period (-1: none)' },
      { name: 'cpu-period', type: 'int', value: 'USEC', help: 'the period of --cpu-quota' },
      { name: 'cpu-rt-period', type: 'int', value: 'USEC', help: 'realtime scheduling period' },
      { name: 'cpu-rt-runtime', type: 'int', value: 'USEC', help: 'realtime scheduling runtime per period' },
      { name: 'cpu-idle', type: 'string', value: '0|1', help: 'SCHED_IDLE for the cgroup (cgroup v2)' },
      { name: 'cpuset-cpus', type: 'string', value: 'LIST', help: 'CPUs the container may use (0-1,3)' },
      { name: 'cpuset-mems', type: 'string', value: 'LIST', help: 'memory nodes the container may use' },
      { name: 'pids-limit', type: 'string', value: 'N', help: 'most processes at once (-1: none)' },
      { name: 'blkio-weight', type: 'int', value: 'N', help: 'relative block IO weight (10-1000)' },
    ],
    explain: true,
  },
  events: {
    summary: "print a container's stats and OOM events as JSON lines",
    usage: ['[options] ID'],
    flags: [
      { name: 'stats', type: 'bool', help: 'print the stats once and exit' },
      { name: 'interval', type: 'string', value: 'DURATION', help: 'time between stats lines (5s, 500ms, 1m; default 5s)' },
    ],
  },
  pull: {
    summary: 'pull an image from a registry into the store',
    usage: ['[options] IMAGE    (busybox, docker.io/library/busybox:latest, 127.0.0.1:5000/app@sha256:...)'],
    flags: [
      { name: 'platform', type: 'string', value: 'OS/ARCH[/VARIANT]', help: 'the platform to pull from a multi-platform image (default: this machine)' },
      { name: 'creds', type: 'string', value: 'USER:PASSWORD', help: 'credentials (else from a docker config.json: $DOCKER_CONFIG)' },
      { name: 'plain-http', type: 'bool', help: 'talk HTTP, not HTTPS (loopback registries may without it)' },
      { name: 'hosts-dir', type: 'string', value: 'DIR', help: 'mirrors and per-registry settings: DIR/<registry>/hosts.toml (default /etc/tsrun/certs.d)' },
      { name: 'concurrency', type: 'int', value: 'N', help: 'layers downloaded at once (default 3)' },
      { name: 'quiet', alias: 'q', type: 'bool', help: 'no progress: print only the name and digest' },
    ],
    explain: true,
    notes: ['On a terminal each layer has a progress bar (bytes, rate, time left); otherwise one summary line goes to stderr.'],
  },
  images: {
    summary: 'list the images in the store',
    usage: ['[options]'],
    flags: [
      FORMAT(['table', 'json'], 'output format (json: the records, sizes in bytes)'),
      { name: 'quiet', alias: 'q', type: 'bool', help: 'print the names only' },
    ],
  },
  rmi: { summary: 'remove images from the store, and the blobs and layers no other image uses', usage: ['IMAGE...'], flags: [] },
  prune: { summary: 'remove the blobs and layers no image or bundle uses', usage: [''], flags: [] },
  bundle: {
    summary: "make a bundle from an image: DIR/config.json and DIR/rootfs (an overlay of the image's layers)",
    usage: ["[options] IMAGE DIR [-- CMD [ARG...]]    (CMD replaces the image's Cmd)", '--remove DIR'],
    flags: [{ name: 'remove', type: 'bool', help: 'unmount and remove a bundle made by `tsrun bundle`' }],
    explain: true,
  },
  inspect: {
    summary: "show a running container from the kernel's side: namespaces, cgroup, processes, capabilities, seccomp, mounts, layers",
    usage: ['[options] ID'],
    flags: [
      FORMAT(['text', 'json'], 'output format (json: sizes in bytes)'),
      { name: 'explain', type: 'bool', help: 'say what each part means' },
      { name: 'lang', type: 'string', values: ['en', 'ja'], help: 'language of --explain (default: from $LANG)' },
      { name: 'html', type: 'string', value: 'FILE', help: 'write the picture of the container to FILE: one self-contained HTML page' },
    ],
  },
  cri: {
    summary: 'serve the Kubernetes CRI (RuntimeService and ImageService) on a unix socket',
    usage: ['[options]'],
    flags: [
      { name: 'listen', type: 'string', value: 'unix://PATH', help: 'where to serve (default unix:///run/tsrun/cri.sock)' },
      { name: 'state-dir', type: 'string', value: 'DIR', help: 'pod and container records (default /var/lib/tsrun/cri)' },
      { name: 'run-dir', type: 'string', value: 'DIR', help: 'sockets and pinned namespaces (default /run/tsrun/cri)' },
      { name: 'cni-conf-dir', type: 'string', value: 'DIR', help: 'CNI network configs (default /etc/cni/net.d)' },
      { name: 'cni-bin-dir', type: 'list', value: 'DIR', help: 'where the CNI plugins are (repeat for more; default /usr/lib/cni, /opt/cni/bin)' },
      { name: 'registry-config', type: 'string', value: 'DIR', help: 'mirrors and per-registry settings: DIR/<registry>/hosts.toml' },
      { name: 'stream-address', type: 'string', value: 'ADDR', help: 'address of the exec/attach/port-forward server (default 127.0.0.1)' },
      { name: 'stream-port', type: 'int', value: 'PORT', help: 'its port (default: any free one)' },
      { name: 'cgroup-parent', type: 'string', value: 'PATH', help: 'cgroup parent of pods the kubelet gives none' },
      {
        name: 'restrict-oom-score-adj',
        type: 'bool',
        help: "never set a container's oom_score_adj below the server's own (containerd's restrict_oom_score_adj: for hosts without CAP_SYS_RESOURCE)",
      },
    ],
    explain: true,
  },
  help: { summary: 'show the usage of tsrun or of one command', usage: ['[COMMAND]'], flags: [] },
} satisfies Record<string, CommandHelp>;

export type Verb = keyof typeof COMMANDS;

export function isVerb(s: string): s is Verb {
  return Object.prototype.hasOwnProperty.call(COMMANDS, s);
}

export const GLOBAL_FLAGS: readonly FlagHelp[] = [
  {
    name: 'root',
    type: 'string',
    value: 'DIR',
    help: 'container state (default $TSRUN_ROOT, else $XDG_RUNTIME_DIR/tsrun for an ordinary user, else /run/tsrun)',
  },
  { name: 'store', type: 'string', value: 'DIR', help: 'image store (default $TSRUN_STORE, else /var/lib/tsrun)' },
  { name: 'log', type: 'string', value: 'FILE', help: 'also write log lines (and errors) to FILE' },
  { name: 'log-format', type: 'string', values: ['text', 'json'], help: 'format of the log' },
  { name: 'debug', type: 'bool', help: 'log each step the runtime takes' },
  { name: 'systemd-cgroup', type: 'bool', help: "systemd makes the container's cgroup (a transient scope over D-Bus); cgroupsPath is slice:prefix:name" },
  {
    name: 'rootless',
    type: 'string',
    value: 'true|false|auto',
    help: "rootless mode (auto: when not root, as runc's): a user namespace, state under $XDG_RUNTIME_DIR, cgroups only where delegated",
  },
  { name: 'criu', type: 'string', value: 'PATH', help: "runc's flag (accepted, ignored: no checkpoint/restore)" },
  { name: 'version', alias: 'v', type: 'bool', help: 'print the version' },
  { name: 'help', alias: 'h', type: 'bool', help: 'print this usage' },
];

/** Taken out by main for the verbs with `explain: true`, wherever they stand before the command. */
export const EXPLAIN_FLAGS: readonly FlagHelp[] = [
  {
    name: 'explain',
    type: 'string',
    values: ['text', 'json'],
    value: '[=text|json|html FILE]',
    help: 'narrate each step as it happens, to stderr (json: one event per line; html FILE: one self-contained page, with cri a DIR of one page per pod)',
  },
  { name: 'lang', type: 'string', values: ['en', 'ja'], help: 'language of the narration (default: from $LANG)' },
];
