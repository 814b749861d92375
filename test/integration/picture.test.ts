// The pictures (--explain=html, inspect --html) in a real browser: Debian's chromium renders each
// page to a PNG, and the checks read the DOM after the page's script ran. The steps drawn must be
// the event stream --explain=json gives for the same command, in order, in both languages; the
// container beside the host must be what inspect reads from the kernel; and no page may log an
// error.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CATALOGS, detailIn, type Lang } from '../../src/events/narrate';
import type { StepEvent, StepKind } from '../../src/events/types';
import type { Inspection } from '../../src/runtime/inspect';
import { busyboxRootfs, makeBundle } from '../fixtures/busybox';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { Browser, pngSize, type PageReport } from '../helpers/browser';
import { newRoot, tsrun } from '../helpers/tsrun';

let reg: Registry;
let image: string;
let browser: Browser;
const root = newRoot();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-picture-'));
const ids: string[] = [];

test.before(async () => {
  reg = await startRegistry('plain');
  const layout = new OciLayout(path.join(work, 'oci'));
  layout.tag('1', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sleep', '1000'], Env: ['PATH=/bin'] }));
  push(layout.dir, '1', `${reg.addr}/picture/busybox:1`);
  image = `${reg.addr}/picture/busybox:1`;
  browser = await Browser.launch();
});

test.after.always(async () => {
  for (const id of ids) tsrun(root, ['delete', '--force', id]);
  for (const b of fs.readdirSync(work).filter((d) => d.startsWith('bundle-')))
    tsrun(root, ['--store', path.join(work, 'store-html'), 'bundle', '--remove', path.join(work, b)]);
  await browser?.close();
  await reg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const unique = (name: string): string => {
  const id = `${name}-${process.pid}-${ids.length}`;
  ids.push(id);
  return id;
};

const decode = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&');

interface DrawnStep {
  kind: StepKind;
  stage: string;
  text: Record<Lang, { title: string; detail: string; explain: string }>;
}

/** The steps as the browser's DOM holds them, in document order. */
function drawnSteps(dom: string): DrawnStep[] {
  return dom
    .split('<li class="step"')
    .slice(1)
    .map((li) => {
      const kind = /data-kind="([a-z_A-Z]+)"/.exec(li)![1] as StepKind;
      const stage = /data-stage="([a-z-]+)"/.exec(li)![1]!;
      const text = {} as DrawnStep['text'];
      for (const m of li.matchAll(
        /<div class="l" lang="(en|ja)"><b class="title">([^<]*)<\/b> <code class="detail">([^<]*)<\/code><p class="explain">([^<]*)<\/p>/g,
      ))
        text[m[1] as Lang] = { title: decode(m[2]!), detail: decode(m[3]!), explain: decode(m[4]!) };
      return { kind, stage, text };
    });
}

function jsonEvents(stderr: string): StepEvent[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{"kind"'))
    .map((l) => JSON.parse(l) as StepEvent);
}

// Pids and inode numbers differ between two runs of one command; nothing else in a detail does.
const stable = (d: string): string => d.replace(/\b\d{3,}\b/g, 'N');

// Which language is shown, before and after the switch button is pressed (then pressed back).
const SWITCH = `(() => {
  const shown = (lang) => [...document.querySelectorAll('.step [lang=' + lang + '] .title')].filter((e) => e.getClientRects().length > 0).length;
  const now = () => ({ lang: document.documentElement.dataset.lang, en: shown('en'), ja: shown('ja') });
  const before = now();
  document.getElementById('switch').click();
  const after = now();
  document.getElementById('switch').click();
  return { before, after };
})()`;

/** The page in chromium: no errors, a real PNG, and the steps drawn = the events, in both languages. */
async function checkPage(t: import('ava').ExecutionContext, file: string, events: StepEvent[], lang: Lang): Promise<PageReport> {
  const page = await browser.open(file, { script: SWITCH });
  t.deepEqual(page.errors, [], `${file}: the browser logged no error`);
  const { width, height } = pngSize(page.png);
  t.true(width >= 900 && height > 300, `${file}: rendered ${width}x${height}`);
  fs.writeFileSync(file.replace(/\.html$/, '.png'), page.png);
  t.true(page.dom.includes(`<html lang="${lang}" data-lang="${lang}"`), `${file}: shown in ${lang}`);
  t.false(/<(?:script|link|img)[^>]+(?:src|href)=/.test(page.dom), `${file}: nothing is fetched`);
  const drawn = drawnSteps(page.dom);
  t.deepEqual(
    drawn.map((s) => s.kind),
    events.map((e) => e.kind),
    `${file}: every step of the event stream, in order`,
  );
  drawn.forEach((s, i) => {
    const e = events[i];
    if (!e) return;
    for (const l of ['en', 'ja'] as const) {
      t.is(s.text[l]?.title, CATALOGS[l][s.kind].title, `${file} step ${i} ${l} title`);
      t.is(s.text[l]?.explain, CATALOGS[l][s.kind].explain, `${file} step ${i} ${l} explanation`);
      t.is(stable(s.text[l]?.detail ?? ''), stable(detailIn(e, l)), `${file} step ${i} ${l} detail`);
    }
  });
  if (events.length) {
    const other = lang === 'ja' ? 'en' : 'ja';
    t.deepEqual(
      page.scriptResult,
      { before: { lang, [lang]: events.length, [other]: 0 }, after: { lang: other, [other]: events.length, [lang]: 0 } },
      `${file}: one language shown at a time; the button switches`,
    );
  }
  return page;
}

test('run --explain=html: the steps of a run, grouped by stage, are the --explain=json events, in en and ja', async (t) => {
  const bundle = makeBundle(['sh', '-c', 'echo hi']);
  const id = unique('pic-run');
  const json = tsrun(root, ['run', '--explain=json', '-b', bundle, id]);
  t.is(json.code, 0, json.stderr);
  const events = jsonEvents(json.stderr);
  t.true(events.some((e) => e.kind === 'pivot_root') && events.some((e) => e.kind === 'deleted'));
  const file = path.join(work, 'run.html');
  const r = tsrun(root, ['run', '--explain=html', file, '--lang', 'ja', '-b', bundle, id]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'hi\n', "the container's output stays on stdout");
  t.is(r.stderr, '', 'the page goes to the file, not to stderr');
  const page = await checkPage(t, file, events, 'ja');
  // The stages: the runtime, then the init before pivot_root, then after it.
  const stages = drawnSteps(page.dom).map((s) => s.stage);
  const pivot = events.findIndex((e) => e.kind === 'pivot_root');
  t.is(stages[0], 'runtime');
  t.is(stages[events.findIndex((e) => e.kind === 'clone')], 'init-before');
  t.is(stages[pivot], 'init-before');
  t.is(stages[pivot + 1], 'init-after');
  t.is(stages[events.findIndex((e) => e.kind === 'capabilities')], 'init-after');
  // Seen at `created`: the init alone, pid 1 of its own pid namespace.
  t.regex(page.dom, /<tr data-host-pid="\d+"><td>\d+<\/td><td>1<\/td>/);
});

test('pull, create, exec --explain=html and inspect --html draw the image, the overlay stack, the namespaces and the processes as inspect reads them', async (t) => {
  // The pull, twice: --explain=json into one store, the picture into another.
  const json = tsrun(root, ['--store', path.join(work, 'store-json'), 'pull', '--explain=json', image]);
  t.is(json.code, 0, json.stderr);
  const pullPage = path.join(work, 'pull.html');
  const pull = tsrun(root, ['--store', path.join(work, 'store-html'), 'pull', '--explain=html', pullPage, '--lang', 'en', image]);
  t.is(pull.code, 0, pull.stderr);
  const pullEvents = jsonEvents(json.stderr);
  t.true(pullEvents.some((e) => e.kind === 'layer_unpacked'));
  const pulled = drawnSteps((await checkPage(t, pullPage, pullEvents, 'en')).dom);
  t.true(pulled.every((s) => s.stage === 'image'));

  const store = path.join(work, 'store-html');
  const bundle = path.join(work, 'bundle-1');
  t.is(tsrun(root, ['--store', store, 'bundle', image, bundle]).code, 0);
  // create: once for the JSON events, once for the picture (same id, so the same details).
  const id = unique('pic-create');
  const c1 = tsrun(root, ['create', '--explain=json', '-b', bundle, id]);
  t.is(c1.code, 0, c1.stderr);
  t.is(tsrun(root, ['delete', '--force', id]).code, 0);
  const createPage = path.join(work, 'create.html');
  const c2 = tsrun(root, ['create', '--explain=html', createPage, '-b', bundle, id]);
  t.is(c2.code, 0, c2.stderr);
  const seen = JSON.parse(tsrun(root, ['inspect', '--format', 'json', id]).stdout) as Inspection;
  const created = await checkPage(t, createPage, jsonEvents(c1.stderr), 'en');
  t.true(
    seen.overlay !== undefined && seen.overlay.lower.length === 1 && seen.overlay.lower[0]!.files > 100,
    'the rootfs is an overlay of the one busybox layer',
  );

  const inspectPage = path.join(work, 'inspect.html');
  const ip = tsrun(root, ['inspect', '--html', inspectPage, '--lang', 'ja', id]);
  t.is(ip.code, 0, ip.stderr);
  const inspected = await checkPage(t, inspectPage, [], 'ja');
  for (const dom of [created.dom, inspected.dom]) {
    // Each namespace: shared with the host, or the container's own, as the kernel says.
    const drawnNs = [...dom.matchAll(/<g class="ns( shared)?" data-type="([a-z]+)">/g)].map((m) => ({ type: m[2], shared: Boolean(m[1]) }));
    t.deepEqual(
      drawnNs,
      seen.namespaces.map((n) => ({ type: n.type, shared: n.shared })),
    );
    for (const n of seen.namespaces.filter((x) => !x.shared)) t.true(dom.includes(/\[(\d+)\]/.exec(n.container)![1]!), `${n.type}'s own inode is drawn`);
    // The process tree: the init's host pid beside its pid 1.
    t.true(dom.includes(`<tr data-host-pid="${seen.pid}"><td>${seen.pid}</td><td>1</td>`));
    // The overlay stack: the upper dir, then the layer with its file count.
    const layers = [...dom.matchAll(/<g class="layer (upper|lower)" data-files="(\d+)">/g)].map((m) => ({ kind: m[1], files: Number(m[2]) }));
    t.deepEqual(layers, [
      { kind: 'upper', files: seen.overlay!.upper!.files },
      { kind: 'lower', files: seen.overlay!.lower[0]!.files },
    ]);
    t.true(dom.includes(seen.cgroup.path));
  }
  t.true(inspected.dom.includes('class="nosteps"'), 'inspect has no steps to draw, and says so');

  // exec into the running container: its steps (joining the namespaces) and the two processes.
  t.is(tsrun(root, ['start', id]).code, 0);
  const e1 = tsrun(root, ['exec', '--explain=json', id, 'true']);
  t.is(e1.code, 0, e1.stderr);
  const execPage = path.join(work, 'exec.html');
  const e2 = tsrun(root, ['exec', '--explain=html', execPage, id, 'true']);
  t.is(e2.code, 0, e2.stderr);
  const execEvents = jsonEvents(e1.stderr);
  t.true(execEvents.some((e) => e.kind === 'setns'));
  const exec = await checkPage(t, execPage, execEvents, 'en');
  t.true(
    drawnSteps(exec.dom)
      .filter((s) => s.kind === 'setns')
      .every((s) => s.stage === 'init'),
    'an exec has no pivot_root: its init steps are one stage',
  );
  t.true(/<td[^>]*>sleep<\/td>/.test(exec.dom), 'the container runs its program, seen at the end of the exec');
  t.is(tsrun(root, ['delete', '--force', id]).code, 0);
});

test('--explain=html without a file, or an explain mode that does not exist, is a usage error naming what to write', (t) => {
  const r = tsrun(root, ['run', '--explain=html']);
  t.is(r.code, 1);
  t.regex(r.stderr, /--explain=html needs where to write the page/);
  const x = tsrun(root, ['run', '--explain=xml', 'x']);
  t.is(x.code, 1);
  t.regex(x.stderr, /--explain=xml: say --explain \(text\), --explain=json or --explain=html FILE/);
});
