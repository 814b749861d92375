// crictl and critest (kubernetes-sigs/cri-tools), built once per machine by
// scripts/install-cri-tools.sh; tests that need them skip when they are absent.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CRI_TOOLS_VERSION = 'v1.34.0';
export const CRI_TOOLS_BIN_DIR = path.join('/var/cache/tsrun-cri-tools', CRI_TOOLS_VERSION, 'bin');

/** The binary's absolute path, or undefined when scripts/install-cri-tools.sh has not run. */
export function criToolsBin(name: 'crictl' | 'critest'): string | undefined {
  const file = path.join(CRI_TOOLS_BIN_DIR, name);
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return file;
  } catch {
    return undefined;
  }
}
