// The lessons (docs/lessons) run for real through the generator's own code: three times, with
// --explain=json, in English and in Japanese. The narration must be exactly the events the
// runtime emitted, and the committed lessons must be what their sources generate today.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CATALOGS, type Lang } from '../../src/events/narrate';
import type { StepKind } from '../../src/events/types';
import { renderAll, skeleton } from '../../scripts/lessons/render';
import { runLessons, type LessonResult } from '../../scripts/lessons/runner';
import { startLessonRegistry, withLessonLock } from '../../scripts/lessons/setup';
import { checkSameCommands, discoverLessons, LANGS, LESSONS_DIR, withExplain } from '../../scripts/lessons/source';
import type { Registry } from '../fixtures/registry';

const lessons = discoverLessons();
let registry: Registry | undefined;
const runs = {} as Record<'json' | Lang, LessonResult[]>;

test.before(async () => {
  registry = await startLessonRegistry();
  await withLessonLock(async () => {
    // The Japanese lessons say --lang ja themselves; the JSON run is the English one with each
    // --explain turned into --explain=json.
    runs.en = await runLessons(registry!.addr, lessons.map((l) => l.sources.en));
    runs.ja = await runLessons(registry!.addr, lessons.map((l) => l.sources.ja));
    runs.json = await runLessons(registry!.addr, lessons.map((l) => l.sources.en), { rewrite: (c) => withExplain(c, 'json') });
  });
});

test.after.always(async () => {
  await registry?.stop();
});

interface Step {
  title: string;
  detail: string;
}

/** The narrated steps in a command's output (placeholders applied): "[ <t> ms] title: detail". */
function narrated(shown: string): Step[] {
  return shown
    .split('\n')
    .map((l) => /^\[ *<t> ms\] (.*)$/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined)
    .map((s) => ({ title: s.slice(0, s.indexOf(': ')), detail: s.slice(s.indexOf(': ') + 2) }));
}

/** The events in a command's output under --explain=json (placeholders applied). */
function emitted(shown: string): { kind: StepKind; detail: string }[] {
  return shown
    .split('\n')
    .filter((l) => l.startsWith('{"kind":'))
    .map((l) => JSON.parse(l) as { kind: StepKind; detail: string });
}

test('the English and Japanese lessons run the same commands', (t) => {
  t.true(lessons.length >= 5);
  for (const l of lessons) t.notThrows(() => checkSameCommands(l), l.name);
});

test('--explain narrates exactly the events the runtime emitted, in order, in English and Japanese', (t) => {
  let total = 0;
  lessons.forEach((lesson, i) => {
    const json = runs.json[i]!.results;
    let events = 0;
    json.forEach((r, k) => {
      const want = emitted(r.shown);
      events += want.length;
      for (const lang of LANGS) {
        const got = narrated(runs[lang][i]!.results[k]!.shown);
        const where = `${lesson.name} (${lang}), command ${k + 1}: ${r.command}`;
        t.deepEqual(
          got.map((s) => s.title),
          want.map((e) => CATALOGS[lang][e.kind].title),
          where,
        );
        t.deepEqual(
          got.map((s) => s.detail),
          want.map((e) => e.detail),
          where,
        );
      }
    });
    const explains = json.filter((r) => /--explain=json/.test(r.ran)).length;
    t.true(explains > 0 && events >= explains, `${lesson.name}: ${events} events from ${explains} --explain=json commands`);
    total += events;
  });
  // The lessons cover the image, rootfs, namespace, cgroup and lifecycle steps.
  const kinds = new Set(runs.json.flatMap((l) => l.results.flatMap((r) => emitted(r.shown).map((e) => e.kind))));
  for (const k of ['image_resolved', 'blob_fetched', 'layer_unpacked', 'rootfs_mounted', 'clone', 'pivot_root', 'cgroup_limits', 'updated', 'created', 'started', 'setns', 'signal', 'deleted'] as const)
    t.true(kinds.has(k), `some lesson shows ${k}`);
  t.true(total > 100, `${total} events`);
});

test('each limit is narrated with the file and value written', (t) => {
  const limits = runs.en.flatMap((l) => l.results.flatMap((r) => narrated(r.shown))).filter((s) => s.title === 'limits written');
  // Lesson 04 reads cgroup v1 files, as on this project's (hybrid) machines.
  t.true(limits.some((s) => s.detail === 'memory: memory.limit_in_bytes=33554432, memory.memsw.limit_in_bytes=33554432'));
  t.true(limits.some((s) => s.detail === 'pids: pids.max=10'));
});

test('the committed lessons are what their sources generate (apart from placeholders)', (t) => {
  const files = renderAll(lessons, { en: runs.en, ja: runs.ja }, fs.readFileSync(path.join(LESSONS_DIR, 'README.md'), 'utf8'));
  for (const [rel, text] of files) {
    const file = path.join(LESSONS_DIR, rel);
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    t.deepEqual(skeleton(committed), skeleton(text), `docs/lessons/${rel} is out of date: run \`npm run lessons\``);
  }
  for (const lang of LANGS) {
    const stale = fs.readdirSync(path.join(LESSONS_DIR, lang)).filter((f) => !files.has(`${lang}/${f}`));
    t.deepEqual(stale, [], `docs/lessons/${lang} has files no source generates`);
  }
});
