// The lesson generator's parts that need no machine: parsing sources, the explain rewrites,
// and the placeholders that keep regenerated lessons stable.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Shell } from '../../scripts/lessons/shell';
import { laneOf } from '../../scripts/lessons/lane';
import { Placeholders } from '../../scripts/lessons/placeholders';
import { checkSameCommands, cleanupOf, commandsOf, parseLesson, splitCommands, withExplain, withoutLang } from '../../scripts/lessons/source';

test('a lesson source: prose, and run blocks split into commands (continuations, heredocs)', (t) => {
  const src = ['# 09 · Title', 'text', '```run', 'echo a', 'echo b \\', '  c', 'cat <<EOF', 'x', 'EOF', '```', 'more'].join('\n');
  const l = parseLesson('/x/09-some-thing.ja.md', src);
  t.is(l.name, '09-some-thing');
  t.is(l.lang, 'ja');
  t.is(l.title, '09 · Title');
  t.deepEqual(l.segments, [
    { kind: 'prose', text: '# 09 · Title\ntext' },
    { kind: 'run', commands: ['echo a', 'echo b \\\n  c', 'cat <<EOF\nx\nEOF'] },
    { kind: 'prose', text: 'more' },
  ]);
  t.throws(() => splitCommands(['echo \\'], 'here'), { message: /unfinished/ });
  t.throws(() => parseLesson('/x/notalesson.md', '# t'), { message: /NN-name/ });
});

test('a cleanup block is kept apart from the commands, and both languages must have the same', (t) => {
  const src = (lang: string, cleanup: string): string =>
    ['# 09 · T', '```run', 'echo a', '```', `prose ${lang}`, '```cleanup', cleanup, 'true', '```'].join('\n');
  const en = parseLesson('/x/09-t.en.md', src('en', 'ip link del br0 2>/dev/null'));
  t.deepEqual(commandsOf(en), ['echo a']);
  t.deepEqual(cleanupOf(en), ['ip link del br0 2>/dev/null\ntrue']);
  t.notThrows(() => checkSameCommands({ name: '09-t', sources: { en, ja: parseLesson('/x/09-t.ja.md', src('ja', 'ip link del br0 2>/dev/null')) } }));
  t.throws(() => checkSameCommands({ name: '09-t', sources: { en, ja: parseLesson('/x/09-t.ja.md', src('ja', 'ip link del br1')) } }), { message: /cleanup/ });
  t.throws(() => parseLesson('/x/09-t.en.md', '# t\n```cleanup\n\n```'), { message: /empty cleanup/ });
});

test('explain rewrites touch only tsrun verbs that emit events', (t) => {
  t.is(withExplain('tsrun run --explain --lang ja -b x y', 'json'), 'tsrun run --explain=json -b x y');
  t.is(withExplain('tsrun pull --explain --concurrency 1 r/i:1', 'ja'), 'tsrun pull --explain --lang ja --concurrency 1 r/i:1');
  t.is(withExplain('tsrun inspect --explain --lang ja s1', 'json'), 'tsrun inspect --explain --lang ja s1');
  t.is(withExplain('tsrun exec --explain c1 ps 2>steps.txt; cat steps.txt', 'json'), 'tsrun exec --explain=json c1 ps 2>steps.txt; cat steps.txt');
  t.is(withExplain('tsrun state c1 | jq .pid', 'json'), 'tsrun state c1 | jq .pid');
  // The CRI server narrates into the file its stderr goes to, in the background.
  t.is(
    withExplain('tsrun cri --explain --lang ja --listen unix://$L/s \\\n  --run-dir $L/r 2>steps.log &', 'json'),
    'tsrun cri --explain=json --listen unix://$L/s \\\n  --run-dir $L/r 2>steps.log &',
  );
  t.is(withoutLang('tsrun run --explain --lang ja -b x y'), 'tsrun run --explain -b x y');
});

test('placeholders: variables, timings, times, and numbered pids and inodes, with tables kept aligned', (t) => {
  const p = new Placeholders({ $TSRUN_ROOT: '/tmp/abc/root', $LESSONS: '/tmp/abc/lessons' });
  const out = p.apply(
    [
      '[  12.34 ms] clone: pid 4242 new namespaces: mount',
      '[   0.01 ms] state reserved: /tmp/abc/root/c1',
      '  mount    mnt:[4026532177]         mnt:[4026531832]         own',
      '  user     user:[4026531837]        user:[4026531837]        shared with the host',
      '{"kind":"started","detail":"c1 pid 4242","durationUs":4242,"time":"2026-01-02T03:04:05.678Z"}',
      '  memory  65536 bytes used, limit 1024',
    ].join('\n'),
  );
  t.is(
    out,
    [
      '[    <t> ms] clone: pid <pid-1> new namespaces: mount',
      '[    <t> ms] state reserved: $TSRUN_ROOT/c1',
      '  mount    mnt:[<ino-1>]            mnt:[<ino-2>]            own',
      '  user     user:[<ino-3>]           user:[<ino-3>]           shared with the host',
      '{"kind":"started","detail":"c1 pid <pid-1>","durationUs":4242,"time":"<time>"}',
      '  memory  <n> bytes used, limit 1024',
    ].join('\n'),
  );
  // Numbering holds across the outputs of one lesson.
  t.is(p.apply('NSpid:\t4242\t1'), 'NSpid:\t<pid-1>\t1');
});

test('placeholders for a pod: CRI ids (learned from crictl) and their prefixes, MACs, veths, ports, "ago"', (t) => {
  const pod = 'af899cdaf9e6bc845518d6e8417723f147ce280fc03fb9ce446aee9ff265479b';
  const ctr = '9cc2f43bfb1fddb8452a607ed8b786c42749ff49ddb7e6742a8c5cdd0dda0bfa';
  const digest = 'c3554e1eadd4611e2a5774931edd01d9104fed4f310634c3621f89283f0b3fee';
  const p = new Placeholders({ $LESSONS: '/tmp/abc/lessons' });
  // A bare 64-digit line is an id only in crictl's output: `ls` of the layer store prints digests so.
  t.is(p.apply(`${digest}\n`, 'ls $TSRUN_STORE/layers'), `${digest}\n`);
  t.is(p.apply(`${pod}\n`, 'POD=$(crictl runp pod.json); echo $POD'), '<id-1>\n');
  t.is(p.apply(`${ctr}\n`, 'crictl create $POD c.json pod.json'), '<id-2>\n');
  t.is(
    p.apply(
      [
        `pod namespaces pinned: net,uts,ipc -> /tmp/abc/lessons/cri/run/pods/${pod}/ns`,
        `/tsrun-cri/pod-${pod.slice(0, 16)}/infra-${pod.slice(0, 12)} sha256:${digest}`,
        `${ctr.slice(0, 13)}       2 seconds ago       Running`,
        `${ctr.slice(0, 13)}       Less than a second ago       Running`,
        'veth3c9ad0e1@if2 UP             5e:2c:0a:11:22:33 <BROADCAST,UP>',
        '2: eth0@if1042: <UP> mtu 1500',
        '    link/ether 5e:2c:0a:11:22:33 brd ff:ff:ff:ff:ff:ff',
        'tsrun cri: serving unix:///x (streaming on http://127.0.0.1:38125)',
      ].join('\n'),
    ),
    [
      'pod namespaces pinned: net,uts,ipc -> $LESSONS/cri/run/pods/<id-1>/ns',
      `/tsrun-cri/pod-<id-1>/infra-<id-1> sha256:${digest}`,
      // Columns stay where they were: the gaps grow by what the placeholders saved.
      '<id-2>              <when> ago          Running',
      '<id-2>              <when> ago                   Running',
      '<veth-1>@if2 UP                 <mac-1> <BROADCAST,UP>',
      '2: eth0@if<if-1>: <UP> mtu 1500',
      '    link/ether <mac-1> brd ff:ff:ff:ff:ff:ff',
      'tsrun cri: serving unix:///x (streaming on http://127.0.0.1:<port>)',
    ].join('\n'),
  );
});

test('a shell finds what its commands left in the background, and close() stops it', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lessons-shell-'));
  const shell = new Shell(out, { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, out);
  try {
    t.deepEqual(shell.background(), []);
    t.is((await shell.run('sleep 1000 & echo started')).output, 'started\n');
    // The forked child is `bash` until it has exec'd sleep: wait for the exec, not for a guess.
    let left = shell.background();
    for (let i = 0; i < 200 && left.length === 1 && left[0]!.comm === 'bash'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      left = shell.background();
    }
    t.deepEqual(
      left.map((p) => p.comm),
      ['sleep'],
    );
    await shell.close();
    t.false(
      fs.existsSync(`/proc/${left[0]!.pid}/stat`) && !/\) [ZX] /.test(fs.readFileSync(`/proc/${left[0]!.pid}/stat`, 'utf8')),
      'the background sleep is gone',
    );
  } finally {
    await shell.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('a picture (--explain=html FILE) is drawn in every explain mode; a text narration beside it follows the mode', (t) => {
  const cri = 'tsrun cri --explain --lang ja --explain=html pictures --listen x 2>f &';
  t.is(withExplain(cri, 'json'), 'tsrun cri --explain=json --explain=html pictures --listen x 2>f &');
  t.is(withExplain(cri, 'en'), 'tsrun cri --explain --lang en --explain=html pictures --listen x 2>f &');
  t.is(withExplain('tsrun run --explain=html pictures/a.html -b ns ns1', 'json'), 'tsrun run --explain=html pictures/a.html -b ns ns1');
  t.is(withExplain('tsrun run --explain=html pictures/a.html --lang ja -b ns ns1', 'en'), 'tsrun run --explain=html pictures/a.html -b ns ns1 --lang en');
});

test('a lesson asks for the cgroup v2 lane with a comment in its prose', (t) => {
  t.is(laneOf(parseLesson('/x/16-v2.en.md', '# 16 · v2\n\n<!-- lane: cgroup-v2 -->\n\n```run\necho a\n```\n')), 'cgroup-v2');
  t.is(laneOf(parseLesson('/x/03-ns.en.md', '# 03 · ns\n\n```run\necho "<!-- lane: cgroup-v2 -->"\n```\n')), undefined, 'a command is not a request');
});
