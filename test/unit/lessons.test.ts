// The lesson generator's parts that need no machine: parsing sources, the explain rewrites,
// and the placeholders that keep regenerated lessons stable.
import test from 'ava';
import { Placeholders } from '../../scripts/lessons/placeholders';
import { parseLesson, splitCommands, withExplain, withoutLang } from '../../scripts/lessons/source';

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

test('explain rewrites touch only tsrun verbs that emit events', (t) => {
  t.is(withExplain('tsrun run --explain --lang ja -b x y', 'json'), 'tsrun run --explain=json -b x y');
  t.is(withExplain('tsrun pull --explain --concurrency 1 r/i:1', 'ja'), 'tsrun pull --explain --lang ja --concurrency 1 r/i:1');
  t.is(withExplain('tsrun inspect --explain --lang ja s1', 'json'), 'tsrun inspect --explain --lang ja s1');
  t.is(withExplain('tsrun exec --explain c1 ps 2>steps.txt; cat steps.txt', 'json'), 'tsrun exec --explain=json c1 ps 2>steps.txt; cat steps.txt');
  t.is(withExplain('tsrun state c1 | jq .pid', 'json'), 'tsrun state c1 | jq .pid');
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
