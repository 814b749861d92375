// Where scripts/install-kubernetes.sh puts Kubernetes' own components (built from the Go module
// proxy, cached per machine), and the module source they were built from.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const K8S_VERSION = 'v1.34.4';
export const K8S_BIN_DIR = path.join('/var/cache/tsrun-kubernetes', K8S_VERSION, 'bin');
const GO = process.env['GO'] ?? '/usr/local/go/bin/go';

/** The component's absolute path, or undefined when scripts/install-kubernetes.sh has not built it. */
export function k8sBin(name: string): string | undefined {
  const p = path.join(K8S_BIN_DIR, name);
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    return undefined;
  }
}

let source: string | undefined;

/**
 * k8s.io/kubernetes@K8S_VERSION's source in the Go module cache (test/images, build/pause...),
 * downloaded from the module proxy if the cache lacks it (install-kubernetes.sh has fetched it).
 */
export function kubernetesSource(): string {
  if (source) return source;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-k8s-src-'));
  try {
    const out = execFileSync(GO, ['mod', 'download', '-json', `k8s.io/kubernetes@${K8S_VERSION}`], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    const dir = (JSON.parse(out) as { Dir?: string }).Dir;
    if (!dir || !fs.existsSync(path.join(dir, 'test', 'images')))
      throw new Error(`go mod download k8s.io/kubernetes@${K8S_VERSION} gave no source dir:\n${out}`);
    source = dir;
    return dir;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
