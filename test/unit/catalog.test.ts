import test from 'ava';
import { CATALOGS, narrate, pickLang } from '../../src/events/narrate';
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
