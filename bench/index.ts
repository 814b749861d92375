// npm run bench [-- --quick] [-- --only cli,cri] : every benchmark, one process each, with the
// same flags; their rows merged into bench/results/<date>.json, latest.json and latest.md.
// npm run bench -- --readme : rewrites README.md's benchmark section from latest.json (runs nothing).
// Benchmarks report; they never pass or fail on a figure. A bench that crashes is reported
// and makes the exit code 1, the others still run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rewriteReadme } from './lib/readme';
import { machine, machineLine, markdownTable, PARTS, quick, RESULTS, type Part, type Results } from './lib/report';

const BENCHES = ['cli', 'image', 'cri', 'scale', 'monitor'];
/** Run only when named (--only soak): the churn soak takes longer than all the others together. */
const ON_REQUEST = ['soak'];

function main(): number {
  const argv = process.argv.slice(2);
  if (argv.includes('--readme')) {
    const file = rewriteReadme(path.join(RESULTS, 'latest.json'));
    process.stdout.write(`rewrote the benchmark section of ${file}\n`);
    return 0;
  }
  const onlyArg = argv.indexOf('--only');
  const only = onlyArg >= 0 ? argv[onlyArg + 1]!.split(',') : BENCHES;
  const unknown = only.filter((b) => !BENCHES.includes(b) && !ON_REQUEST.includes(b));
  if (unknown.length) {
    process.stderr.write(`no such benchmark: ${unknown.join(', ')} (have ${[...BENCHES, ...ON_REQUEST].join(', ')})\n`);
    return 2;
  }
  const pass = argv.filter((a, i) => a !== '--only' && (onlyArg < 0 || i !== onlyArg + 1));
  const t0 = Date.now();
  const results: Results = { date: new Date().toISOString(), quick, machine: machine(), rows: [], benches: {}, seconds: 0 };
  let failed = false;
  for (const b of only) {
    const partFile = path.join(PARTS, `${b}.json`);
    fs.rmSync(partFile, { force: true });
    const t = Date.now();
    process.stdout.write(`## ${b}\n`);
    const r = spawnSync(process.execPath, [path.join(__dirname, `${b}.js`), ...pass], { stdio: 'inherit' });
    if (r.status !== 0 || !fs.existsSync(partFile)) {
      failed = true;
      results.benches[b] = { failed: true, seconds: (Date.now() - t) / 1000 };
      continue;
    }
    const { rows, ...rest } = JSON.parse(fs.readFileSync(partFile, 'utf8')) as Part;
    results.rows.push(...rows);
    results.benches[b] = rest;
  }
  results.seconds = (Date.now() - t0) / 1000;
  const stamp = results.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS, { recursive: true });
  const json = JSON.stringify(results, null, 2);
  fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), json);
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
  const failedNames = Object.entries(results.benches)
    .filter(([, v]) => 'failed' in v)
    .map(([k]) => k);
  const notes = Object.entries(results.benches).flatMap(([k, v]) => ('notes' in v && v.notes ? v.notes.map((n) => `- ${k}: ${n}`) : []));
  const md = [
    `# tsrun benchmarks${quick ? ' (quick)' : ''}`,
    '',
    `${results.date} on ${machineLine(results.machine)}; ${results.seconds.toFixed(0)} s in all.`,
    'Each row: tsrun beside the reference tool measured in the same run; ratio = tsrun / reference (below 1: tsrun is faster or smaller).',
    '',
    markdownTable(results.rows),
    ...notes,
    ...(failedNames.length ? ['', `Crashed (no rows): ${failedNames.join(', ')}`] : []),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), md);
  process.stdout.write(
    `\n${md}\nwrote ${path.relative(process.cwd(), path.join(RESULTS, `${stamp}.json`))} and latest.md in ${path.relative(process.cwd(), RESULTS)}\n`,
  );
  return failed ? 1 : 0;
}

try {
  process.exit(main());
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
}
