// PNG plots with gnuplot (Debian's gnuplot-nox), for results a curve tells better than a table.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function haveGnuplot(): boolean {
  return spawnSync('sh', ['-c', 'command -v gnuplot'], { stdio: 'ignore' }).status === 0;
}

export interface Series {
  title: string;
  /** [x, y] points */
  points: [number, number][];
  /** gnuplot style, e.g. "lines lw 2 lc rgb '#1f77b4'" */
  style: string;
}

export interface Panel {
  title: string;
  xlabel: string;
  ylabel: string;
  series: Series[];
}

/** A gnuplot single-quoted string (a quote inside is doubled). */
const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * Side-by-side panels in one PNG, under a title and an optional second line (e.g. why a runtime
 * is absent); the data files are written to workDir.
 */
export function plotPanels(out: string, title: string, panels: Panel[], workDir: string, subtitle?: string): void {
  // A double-quoted gnuplot string, so that \n breaks the title into two lines.
  const head = `"${[title, subtitle]
    .filter(Boolean)
    .map((t) => t!.replace(/["\\]/g, ''))
    .join('\\n')}"`;
  const lines = [
    `set terminal pngcairo size ${560 * panels.length},${subtitle ? 500 : 480} font 'DejaVu Sans,10'`,
    `set output ${q(out)}`,
    `set multiplot layout 1,${panels.length} title ${head} font 'DejaVu Sans,12'`,
    'set grid',
    'set key bottom right box opaque',
    'set yrange [0:*]',
    'set xrange [0:*]',
  ];
  panels.forEach((p, i) => {
    lines.push(`set title ${q(p.title)}`, `set xlabel ${q(p.xlabel)}`, `set ylabel ${q(p.ylabel)}`);
    const plots = p.series
      .filter((s) => s.points.length > 0)
      .map((s, j) => {
        const file = path.join(workDir, `panel${i}-series${j}.dat`);
        fs.writeFileSync(file, s.points.map(([x, y]) => `${x} ${y}`).join('\n') + '\n');
        return `${q(file)} using 1:2 with ${s.style} title ${q(s.title)}`;
      });
    lines.push(
      ...(plots.length
        ? [`plot ${plots.join(', ')}`]
        : ["set label 9 'no data' at graph 0.5, graph 0.5 center", 'plot [0:1] [0:1] -1 notitle', 'unset label 9']),
    );
  });
  lines.push('unset multiplot');
  const script = path.join(workDir, 'plot.gp');
  fs.writeFileSync(script, lines.join('\n') + '\n');
  execFileSync('gnuplot', [script], { stdio: ['ignore', 'ignore', 'pipe'] });
}
