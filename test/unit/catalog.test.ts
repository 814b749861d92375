import test from 'ava';
import { CATALOGS, INSPECT_TEXTS, narrate, narrator, pickLang } from '../../src/events/narrate';
import { STEP_KINDS } from '../../src/events/types';

test('every step kind has a title and an explanation in English and Japanese', (t) => {
  for (const lang of ['en', 'ja'] as const)
    for (const kind of STEP_KINDS) {
      const text = CATALOGS[lang][kind];
      t.truthy(text?.title, `${lang} ${kind} title`);
      t.true((text?.explain.length ?? 0) > 20, `${lang} ${kind} explanation`);
      if (lang === 'ja') t.regex(text.explain, /[\u3040-\u30ff\u4e00-\u9faf]/, `${kind} is Japanese`);
    }
  t.deepEqual(Object.keys(CATALOGS.en).sort(), [...STEP_KINDS].sort(), 'no text for a kind that does not exist');
});

test('the language comes from --lang, else LANG', (t) => {
  t.is(pickLang('ja'), 'ja');
  t.is(pickLang('en'), 'en');
  const old = process.env['LANG'];
  process.env['LANG'] = 'ja_JP.UTF-8';
  delete process.env['LC_ALL'];
  t.is(pickLang(undefined), 'ja');
  process.env['LANG'] = old;
  t.regex(narrate({ kind: 'pivot_root', detail: '/r', durationUs: 1500, time: '' }, 'en'), /^\[ {3}1\.50 ms\] pivot_root: \/r\n +pivot_root\(2\)/);
});

test('variant and inspect texts exist in both languages, the Japanese ones in Japanese', (t) => {
  for (const kind of STEP_KINDS) {
    const en = CATALOGS.en[kind].explainCgroupV1;
    const ja = CATALOGS.ja[kind].explainCgroupV1;
    t.is(!!en, !!ja, `${kind}: a cgroup v1 text in both languages or in neither`);
    if (ja) t.regex(ja, /[\u3040-\u30ff\u4e00-\u9faf]/, kind);
  }
  t.deepEqual(Object.keys(INSPECT_TEXTS.ja).sort(), Object.keys(INSPECT_TEXTS.en).sort());
  for (const text of Object.values(INSPECT_TEXTS.ja)) t.regex(text, /[\u3040-\u30ff\u4e00-\u9faf]/);
});

test("a narrator explains a kind of step once, in the host's cgroup words", (t) => {
  const ev = (kind: 'mount' | 'cgroup_limits', detail: string) => ({ kind, detail, durationUs: 10, time: '' });
  const say = narrator('en', { cgroupV1: true });
  t.is(say(ev('mount', 'proc -> /proc')).split('\n').length, 3);
  t.is(say(ev('mount', 'tmpfs -> /dev')), '[   0.01 ms] mount: tmpfs -> /dev\n');
  t.regex(say(ev('cgroup_limits', 'memory: memory.limit_in_bytes=1')), /memory\.limit_in_bytes or pids\.max/);
  t.regex(narrator('en')(ev('cgroup_limits', 'memory: memory.max=1')), /memory\.max or pids\.max/);
});
