// No English left in --lang ja output: the catalog's texts, the words the Japanese narration
// says around each detail, inspect's labels and the picture's, checked word by word.
import test from 'ava';
import { CATALOGS, detailIn, INSPECT_LABELS, INSPECT_TEXTS } from '../../src/events/narrate';
import { renderPicture } from '../../src/events/picture';
import { STEP_KINDS, type StepKind } from '../../src/events/types';
import { englishWords } from '../helpers/japanese';

// One detail of each kind, in the form the runtime writes it (src/runtime, src/image, src/cri,
// native/init).
const DETAILS: Partial<Record<StepKind, string[]>> = {
  clone: ['pid 4242 new namespaces: mount uts ipc pid network', 'pid 4242'],
  cap_bounding: ['kept 00000000a80425fb, dropped 38'],
  capabilities: ['effective 00000000a80425fb permitted 00000000a80425fb inheritable 0000000000000000 ambient 0000000000000000'],
  seccomp: ['382 instructions'],
  blob_fetched: ['sha256:7b0f 1234 bytes', 'sha256:7b0f 1234 bytes (resumed at 512)'],
  layer_unpacked: ['sha256:7b0f -> sha256:aa01: 412 entries, 2 whiteouts'],
  rootfs_mounted: ['3 layers + upper /b/.tsrun/upper -> /b/rootfs'],
  device: ['/dev/null 1:3 mknod', '/dev/null 1:3 kept existing', '/dev/null 1:3 bind from host'],
  mount: ['proc proc -> /proc', 'bind /data -> /data idmapped recursive-attrs', 'tmpfs tmpfs -> /dev (mode=755,size=65536k)'],
  pod_namespaces: ['net,ipc,uts -> /run/tsrun/cri/pods/ab/ns', 'none (host) -> /run/x/ns', 'user,net -> /r/ns (uid map 0 100000 65536)'],
  pod_network: ['lessons 10.99.6.2 in /run/x/ns/net', 'lessons 10.99.6.2 in /run/x/ns/net ports 8080->80'],
  pod_files: ['hostname web, hosts, resolv.conf in /run/x'],
  container_spec: [
    'httpd from lessons/hello:1.0: user 0:0, 14 capabilities, seccomp SCMP_ACT_ERRNO, args ["httpd","-f"]',
    'httpd from r/h:1.0: user 0:0, 14 capabilities, seccomp none, args ["sh","-c","echo serving on port 80"]',
  ],
  cgroup_limits: ['memory: memory.max=33554432', 'devices: devices.deny=a, devices.allow=c 1:3 rwm'],
  monitor_started: ['monitor pid 10, container pid 11, log /var/log/pods/x/0.log', 'monitor pid 10, container pid 11'],
  container_exited: ['httpd: exit 143 (Error)', 'hello: exit 0 (Completed)'],
  signal: ['SIGTERM -> 1234', 'SIGTERM -> 1234 (by its monitor)', '9 -> cgroup.kill'],
  user: ['uid=0 gid=0 groups=1'],
  rlimit: ['RLIMIT_NOFILE 1024/1024'],
  started: ['split pid 1234', 'exec pid 1234'],
  created: ['split pid 1234'],
  config_loaded: ['sc', '/tmp/bundle'],
  hostname: ['web'],
  deleted: ['split'],
  paused: ['split'],
  resumed: ['split'],
  hook: ['prestart /usr/bin/hook'],
  setns: ['network /proc/1/ns/net'],
  id_maps: ['uid_map: 0 100000 65536; gid_map: 0 100000 65536'],
  namespace: ['cgroup', 'time monotonic 10 0'],
  cgroup_joined: ['1234 -> /tsrun/c1', '1234 -> /tsrun/c1 (by the process itself)'],
  init_spawned: ['pid 1234'],
  image_resolved: ['r/i:1 -> sha256:aa (application/vnd.oci.image.index.v1+json)'],
  platform_selected: ['linux/amd64 -> sha256:bb'],
  image_stored: ['r/i:1 sha256:cc'],
  pod_infra: ['tsrun-pause pid 1234'],
  mount_sources: ['2 bind sources opened as real root'],
  hide_host_proc_sys: ['2 host procfs/sysfs mounts'],
  console: ['/dev/pts/0', '/dev/console bound on the pty'],
  pod_removed: ['3f2a9c (left by a crash)'],
};

test('the checker finds the English that issue 17 found in ja output, and passes identifiers', (t) => {
  t.deepEqual(englishWords('clone: pid 4242 new namespaces: mount uts'), ['new', 'namespaces']);
  t.deepEqual(englishWords('バウンディングセット: kept 00000000a80425fb, dropped 38'), ['kept', 'dropped']);
  t.deepEqual(englishWords('  net  net:[4026531840]  net:[4026531840]  shared with the host'), ['shared', 'with', 'the']);
  t.deepEqual(englishWords('memory  1234 bytes used, limit max'), ['bytes', 'used', 'limit']);
  t.deepEqual(englishWords('CAP_SYS_ADMIN /proc/kcore memory.max=10 SIGTERM CLONE_NEW* --lang ja RLIMIT_NOFILE 1024/1024 cgroup.procs'), []);
});

test('every ja catalog text, and every detail as the ja narration says it, has no English word', (t) => {
  for (const kind of STEP_KINDS) {
    const { title, explain } = CATALOGS.ja[kind];
    t.deepEqual(englishWords(title), [], `${kind} title: ${title}`);
    t.deepEqual(englishWords(explain), [], `${kind} explanation: ${explain}`);
    for (const d of DETAILS[kind] ?? []) {
      const said = detailIn({ kind, detail: d }, 'ja');
      t.deepEqual(englishWords(said), [], `${kind} detail: ${d} -> ${said}`);
      t.is(detailIn({ kind, detail: d }, 'en'), d, 'English details are the data as written');
    }
  }
});

test("inspect's ja labels and explanations have no English word", (t) => {
  const L = INSPECT_LABELS.ja;
  const lines = [
    L.container('c1', 'running', 1234),
    L.namespaces,
    L.shared,
    L.own,
    L.cgroup('/tsrun/c1'),
    L.memory('1234', 'max'),
    L.pids(2, '10'),
    L.cpu('1.5', 0),
    L.capabilities,
    ...Object.values(L.capSets),
    L.none,
    L.seccomp('filter', true),
    L.seccomp('disabled', false),
    L.mounts,
    L.layers,
    L.processes,
    ...Object.values(INSPECT_TEXTS.ja),
  ];
  for (const l of lines) t.deepEqual(englishWords(l), [], l);
});

test("the picture's ja text has no English word", (t) => {
  const events = STEP_KINDS.map((kind) => ({ kind, detail: DETAILS[kind]?.[0] ?? '/x', durationUs: 10, time: '', containerId: 'c1' }));
  const html = renderPicture({
    title: 'tsrun run c1',
    lang: 'ja',
    events,
    container: {
      id: 'c1',
      status: 'running',
      pid: 10,
      namespaces: [
        { type: 'net', container: 'net:[1]', host: 'net:[2]', shared: false },
        { type: 'user', container: 'user:[3]', host: 'user:[3]', shared: true },
      ],
      cgroup: { path: '/tsrun/c1', memory: { usage: 1, limit: 2 }, pids: { current: 1, limit: 2 }, cpu: { usageNs: 1, throttledPeriods: 0 } },
      processes: [{ hostPid: 10, containerPid: 1, ppid: 9, name: 'sh' }],
      overlay: { lower: [{ dir: '/l', files: 3, capped: false }], upper: { dir: '/u', files: 1, capped: false }, work: '/w' },
    },
    pod: {
      id: 'p',
      name: 'web',
      namespace: 'default',
      namespaces: [{ type: 'net', path: '/ns/net' }],
      ip: '10.0.0.2',
      bridge: 'br0',
      hostVeth: 'veth1',
      podInterface: 'eth0',
      ports: ['8080->80/tcp'],
      containers: [{ id: 'c1', name: 'httpd', state: 'CONTAINER_RUNNING', joins: [] }],
    },
  });
  const ja = [...html.matchAll(/<(span|tspan|div) class="l" lang="ja">(.*?)<\/\1>/g)].map((m) =>
    m[2]!.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))),
  );
  t.true(ja.length > 50);
  for (const s of ja) t.deepEqual(englishWords(s), [], s);
});
