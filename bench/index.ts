// npm run bench [-- --quick]: every benchmark, one after the other, with the same flags.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

let failed = false;
for (const b of ['cli.js', 'image.js']) {
  const r = spawnSync(process.execPath, [path.join(__dirname, b), ...process.argv.slice(2)], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
