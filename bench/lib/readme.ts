// README.md quotes the latest benchmark table between two markers, with the date and the
// machine it was measured on; `npm run bench -- --readme` rewrites that section (only).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { machineLine, markdownTable, ROOT, type Results } from './report';

export const BEGIN = '<!-- bench:begin (npm run bench -- --readme rewrites this section) -->';
export const END = '<!-- bench:end -->';

export function readmeSection(r: Results): string {
  // p95s and the full notes stay in bench/results/latest.md: the README keeps to the medians.
  const rows = r.rows.filter((x) => !/\bp95\b/.test(x.name));
  const day = r.date.slice(0, 10);
  const crashed = Object.entries(r.benches)
    .filter(([, v]) => 'failed' in v)
    .map(([k]) => k);
  return [
    BEGIN,
    `Measured ${day} with \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${machineLine(r.machine)}.`,
    `References: ${Object.entries(r.machine.tools)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}. Ratio = tsrun / reference (below 1: tsrun is faster or smaller).`,
    '',
    markdownTable(rows).trimEnd(),
    ...(crashed.length ? ['', `Not measured in that run (crashed): ${crashed.join(', ')}.`] : []),
    END,
  ].join('\n');
}

/** Replaces the marked section of README.md with the table from a results file; returns the README's path. */
export function rewriteReadme(resultsFile: string): string {
  if (!fs.existsSync(resultsFile)) throw new Error(`${resultsFile} is missing: run npm run bench first`);
  const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Results;
  const file = path.join(ROOT, 'README.md');
  const text = fs.readFileSync(file, 'utf8');
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${file} has no benchmark section: add the lines\n${BEGIN}\n${END}`);
  fs.writeFileSync(file, text.slice(0, b) + readmeSection(r) + text.slice(e + END.length));
  return file;
}
