// The lessons (docs/lessons) run for real through the generator's own code: three times, with
// --explain=json, in English and in Japanese. The narration must be exactly the events the
// runtime emitted (lesson 06: the events `tsrun cri` emitted for a pod, shown from the file its
// stderr went to), and the committed lessons must be what their sources generate today.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CATALOGS, detailIn, type Lang } from '../../src/events/narrate';
import type { StepKind } from '../../src/events/types';
import { renderAll, skeleton } from '../../scripts/lessons/render';
import { runLessons, type LessonResult } from '../../scripts/lessons/runner';
import { startLessonRegistry, withLessonLock } from '../../scripts/lessons/setup';
import { checkSameCommands, discoverLessons, LANGS, LESSONS_DIR } from '../../scripts/lessons/source';
import type { Registry } from '../fixtures/registry';
import { Browser } from '../helpers/browser';
import { englishWords } from '../helpers/japanese';

const lessons = discoverLessons();
let registry: Registry | undefined;
const runs = {} as Record<'json' | Lang, LessonResult[]>;
let bridgeLeft: boolean | undefined;

test.before(async (t) => {
  t.timeout(20 * 60_000, 'three runs of the lessons');
  registry = await startLessonRegistry();
  await withLessonLock(async () => {
    // The Japanese lessons say --lang ja themselves; the JSON run is the English one with each
    // --explain turned into --explain=json.
    runs.en = await runLessons(
      registry!.addr,
      lessons.map((l) => l.sources.en),
    );
    runs.ja = await runLessons(
      registry!.addr,
      lessons.map((l) => l.sources.ja),
    );
    runs.json = await runLessons(
      registry!.addr,
      lessons.map((l) => l.sources.en),
      { explain: 'json' },
    );
    // Under the lock: another run of the lessons may make it again once the lock is released.
    bridgeLeft = spawnSync('ip', ['link', 'show', 'lessons0'], { stdio: 'ignore' }).status === 0;
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
  t.true(lessons.length >= 6);
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
          want.map((e) => detailIn(e, lang)),
          where,
        );
      }
    });
    const explains = json.filter((r) => /--explain=json/.test(r.ran)).length;
    // Lessons about files and tools (07's config.json, 12's veth by hand...) may narrate nothing;
    // every --explain a lesson runs narrates at least one step.
    t.true(events >= explains, `${lesson.name}: ${events} events from ${explains} --explain=json commands`);
    total += events;
  });
  // The lessons cover the image, rootfs, namespace, cgroup, lifecycle and pod steps.
  const kinds = new Set(runs.json.flatMap((l) => l.results.flatMap((r) => emitted(r.shown).map((e) => e.kind))));
  for (const k of [
    'image_resolved',
    'blob_fetched',
    'layer_unpacked',
    'rootfs_mounted',
    'clone',
    'pivot_root',
    'cgroup_limits',
    'updated',
    'created',
    'started',
    'setns',
    'signal',
    'deleted',
    ...POD_STEPS,
  ] as const)
    t.true(kinds.has(k), `some lesson shows ${k}`);
  t.true(total > 100, `${total} events`);
});

// What `tsrun cri --explain` tells of one pod, in order (two containers: their steps twice).
const POD_STEPS = [
  'pod_namespaces',
  'pod_shm',
  'pod_network',
  'pod_files',
  'pod_infra',
  'container_spec',
  'monitor_started',
  'container_exited',
  'pod_stopped',
  'pod_removed',
] as const;

test('the CRI lesson shows a pod from its pinned namespaces to its removal, narrated as emitted, in en and ja', (t) => {
  const i = lessons.findIndex((l) => l.name === '06-pod-cri');
  t.true(i >= 0, 'lesson 06 exists');
  const json = runs.json[i]!.results;
  t.true(
    json.some((r) => /\btsrun cri --explain=json\b/.test(r.ran)),
    'the JSON run starts the server with --explain=json',
  );
  const events = json.flatMap((r) => emitted(r.shown));
  const podKinds = events.map((e) => e.kind).filter((k) => (POD_STEPS as readonly string[]).includes(k));
  t.deepEqual(podKinds, [
    'pod_namespaces',
    'pod_shm',
    'pod_network',
    'pod_files',
    'pod_infra',
    'container_spec',
    'monitor_started',
    'container_spec',
    'monitor_started',
    'container_exited',
    'container_exited',
    'pod_stopped',
    'pod_removed',
  ]);
  // The pod got the first address of the lesson's subnet, and SIGTERM ended both containers.
  t.is(events.find((e) => e.kind === 'pod_network')?.detail, 'lessons 10.99.6.2 in $LESSONS/cri/run/pods/<id-1>/ns/net');
  t.deepEqual(
    events.filter((e) => e.kind === 'container_exited').map((e) => e.detail),
    ['httpd: exit 143 (Error)', 'sidecar: exit 143 (Error)'],
  );
  for (const lang of LANGS) {
    const steps = runs[lang][i]!.results.flatMap((r) => narrated(r.shown));
    t.deepEqual(
      steps.map((s) => s.title),
      events.map((e) => CATALOGS[lang][e.kind].title),
      `${lang}: the same steps, in the same order, as the JSON events`,
    );
  }
  // The lesson took its bridge away (its own check shows no mount, cgroup or veth left).
  t.false(bridgeLeft);
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
    const stale = fs.readdirSync(path.join(LESSONS_DIR, lang)).filter((f) => f !== 'pictures' && !files.has(`${lang}/${f}`));
    t.deepEqual(stale, [], `docs/lessons/${lang} has files no source generates`);
    // The pictures: each page a lesson drew, with its PNG, and no other.
    const drawn = runs[lang]
      .flatMap((r) => [...r.pictures.keys()])
      .flatMap((f) => [f, f.replace(/\.html$/, '.png')])
      .sort();
    const dir = path.join(LESSONS_DIR, lang, 'pictures');
    t.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [], drawn, `docs/lessons/${lang}/pictures is out of date: run \`npm run lessons\``);
  }
});

/** What tsrun itself said in a ja lesson: narration lines and their explanations, and inspect's report. */
function tsrunSaid(r: LessonResult['results'][number]): string[] {
  const lines = r.shown.split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (/^\[ *<t> ms\] /.test(l)) out.push(l.replace(/^\[ *<t> ms\] /, ''), lines[i + 1] ?? '');
  });
  if (/\btsrun inspect\b/.test(r.ran) && !/--format/.test(r.ran)) {
    // Labels and the namespace and cgroup rows; mounts, processes and capabilities are data.
    let section = '';
    for (const l of lines) {
      if (!l.startsWith('  ')) section = l;
      if (!l.startsWith('  ') || l.startsWith('  #') || /^(?:名前空間|cgroup )/.test(section)) out.push(l);
    }
  }
  return out;
}

test('the Japanese lessons show no English word in what tsrun says (narration, inspect)', (t) => {
  let checked = 0;
  runs.ja.forEach((lesson) => {
    for (const r of lesson.results.filter((x) => /--lang ja\b/.test(x.ran)))
      for (const line of tsrunSaid(r)) {
        checked++;
        t.deepEqual(englishWords(line), [], `${lesson.source.name}: ${r.command}\n  ${line}`);
      }
  });
  t.true(checked > 200, `${checked} lines checked`);
});

test('the pictures the lessons draw open in chromium without an error, with every step in both languages, and the lessons show them', async (t) => {
  const browser = await Browser.launch();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lesson-pictures-'));
  let pages = 0;
  try {
    for (const lang of LANGS)
      for (const r of runs[lang])
        for (const [name, html] of r.pictures) {
          pages++;
          const file = path.join(dir, `${lang}-${name}`);
          fs.writeFileSync(file, html);
          const page = await browser.open(file);
          t.deepEqual(page.errors, [], `${lang}/${name}`);
          t.true(page.dom.includes(`data-lang="${lang}"`), `${lang}/${name} is shown in ${lang}`);
          for (const m of page.dom.matchAll(/<li class="step" data-index="\d+" data-kind="([a-z_A-Z]+)"/g))
            for (const l of LANGS)
              t.true(
                page.dom.includes(`<div class="l" lang="${l}"><b class="title">${CATALOGS[l][m[1] as StepKind].title.replace(/&/g, '&amp;')}</b>`),
                `${lang}/${name}: ${m[1]} in ${l}`,
              );
          // The lesson shows the picture it drew, and links the page.
          const prose = r.source.segments.flatMap((s) => (s.kind === 'prose' ? [s.text] : [])).join('\n');
          t.true(
            prose.includes(`](pictures/${name.replace(/\.html$/, '.png')})`) && prose.includes(`](pictures/${name})`),
            `${r.source.file} shows pictures/${name}`,
          );
        }
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  t.true(pages >= 4, `${pages} pictures`);
});
