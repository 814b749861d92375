// npm run lessons [-- --out DIR]: runs every lesson in every language against a local registry
// and writes docs/lessons/<lang>/NN-name.md with what the commands really printed, and the
// lesson list in docs/lessons/README.md. Runs as root (containers, mounts, cgroups).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser } from '../../test/helpers/browser';
import { criToolsBin } from '../../test/helpers/cri-tools';
import { kubeletBin } from '../../test/helpers/kubelet';
import { laneOf } from './lane';
import { picturesShown, renderAll, renderSome } from './render';
import { runLessons, type LessonResult } from './runner';
import { startLessonRegistry, withLessonLock } from './setup';
import { checkSameCommands, discoverLessons, LANGS, LESSONS_DIR, REPO_DIR, type LessonLang } from './source';

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--out');
  const outDir = i >= 0 && argv[i + 1] ? path.resolve(argv[i + 1]!) : LESSONS_DIR;
  if (!fs.existsSync(path.join(REPO_DIR, 'build', 'Release', 'tsrun-init'))) throw new Error('the native part is not built: run `npm run build` first');
  if (process.getuid?.() !== 0) throw new Error('the lessons run containers: run this as root');
  if (!criToolsBin('crictl')) throw new Error('lesson 06 drives tsrun cri with crictl: run `bash scripts/install-cri-tools.sh` first');
  if (!kubeletBin()) throw new Error('lesson 15 runs the kubelet: run `bash scripts/install-kubernetes.sh` first');
  const lessons = discoverLessons();
  for (const l of lessons) checkSameCommands(l);
  // --only 03,16: regenerate those lessons alone (after 01, which pulls the image they use).
  const o = argv.indexOf('--only');
  const only = o >= 0 ? (argv[o + 1] ?? '').split(',').filter(Boolean) : undefined;
  const chosen = only ? lessons.filter((l) => only.some((n) => l.name.startsWith(n))) : lessons;
  if (only && chosen.length !== only.length) throw new Error(`--only ${only.join(',')}: lessons are ${lessons.map((l) => l.name).join(', ')}`);
  const toRun = only && !chosen.includes(lessons[0]!) && chosen.some((l) => !laneOf(l.sources.en)) ? [lessons[0]!, ...chosen] : chosen;
  const registry = await startLessonRegistry();
  try {
    const runs = await withLessonLock(async () => {
      const r = {} as Record<LessonLang, LessonResult[]>;
      for (const lang of LANGS) {
        process.stderr.write(`${lang}:`);
        r[lang] = (
          await runLessons(
            registry.addr,
            toRun.map((l) => l.sources[lang]),
            { progress: () => process.stderr.write('.') },
          )
        ).filter((x) => chosen.some((l) => l.name === x.source.name));
        process.stderr.write('\n');
      }
      return r;
    });
    const files = only
      ? renderSome(lessons, chosen, runs, fs.readFileSync(path.join(LESSONS_DIR, 'README.md'), 'utf8'))
      : renderAll(lessons, runs, fs.readFileSync(path.join(LESSONS_DIR, 'README.md'), 'utf8'));
    for (const [rel, text] of files) {
      const file = path.join(outDir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
    // The pictures: each page as drawn, and a PNG of it from headless chromium for markdown viewers.
    let pictures = 0;
    const browser = await Browser.launch();
    try {
      for (const lang of LANGS) {
        const dir = path.join(outDir, lang, 'pictures');
        if (!only) fs.rmSync(dir, { recursive: true, force: true });
        // A lesson regenerated alone replaces the pictures it shows.
        else for (const l of chosen) for (const f of picturesShown(l.sources[lang])) fs.rmSync(path.join(dir, f), { force: true });
        for (const r of runs[lang])
          for (const [name, html] of r.pictures) {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, name), html);
            // The PNG is the picture (the pod, the timeline, the container beside the host); the
            // list of every step, with its texts, stays in the page.
            const page = await browser.open(path.join(dir, name), {
              width: 1000,
              script: "document.querySelectorAll('section.stage').forEach((s) => s.remove())",
            });
            if (page.errors.length) throw new Error(`${lang}/pictures/${name}: ${page.errors.join('; ')}`);
            fs.writeFileSync(path.join(dir, name.replace(/\.html$/, '.png')), page.png);
            pictures++;
          }
      }
    } finally {
      await browser.close();
    }
    process.stderr.write(`wrote ${files.size} files and ${pictures} pictures under ${path.relative(process.cwd(), outDir) || '.'}\n`);
    return 0;
  } finally {
    await registry.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`lessons: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
