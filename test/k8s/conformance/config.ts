// What the two halves of a node conformance run share: the host side (run.ts: images, cgroups,
// namespaces, cleanup) hands the node side (node.ts, inside the namespaces) this config.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type RuntimeName = 'tsrun' | 'containerd';
export const RUNTIMES: readonly RuntimeName[] = ['tsrun', 'containerd'];

/** The node's IP on its dummy link, inside the run's network namespace (the kubelet refuses loopback). */
export const NODE_IP = '10.99.0.1';
/** The pods' bridge network, inside the run's network namespace. */
export const POD_SUBNET = '10.88.0.0/16';
/** The node's name (and the namespace's hostname). */
export const NODE_NAME = 'tsrun-conformance-node';

export interface NodeRunConfig {
  runtime: RuntimeName;
  /** the runtime's, kubelet's and suite's state: removed after the run */
  workDir: string;
  /** reports and logs: kept */
  outDir: string;
  /** the built stand-in images (a docker-registry's storage in registry/) */
  imagesDir: string;
  /** the stand-ins' public names, pulled before the suite starts */
  images: string[];
  /** ginkgo focus regex */
  focus: string;
  /** suite timeout for ginkgo, e.g. "3h" */
  ginkgoTimeout: string;
  tsrun: string;
  k8sBinDir: string;
  /** paths the node side needs that may lie under /tmp (which it covers with its own): the checkout */
  keepVisible: string[];
}

/** The repository's test/k8s/conformance (spec lists live there, beside this file's source). */
export const SOURCE_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'k8s', 'conformance');

/** The CI sample: spec full names, one a line (lines starting with '#' are comments). */
export const SAMPLE_FILE = path.join(SOURCE_DIR, 'sample.txt');

export function readSpecList(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The description e2e_node gives ginkgo.RunSpecs: ginkgo matches a focus against it, a space, then the spec's text. */
export const SUITE_DESCRIPTION = 'E2eNode Suite';

/** A ginkgo focus regex matching exactly these spec texts (container texts and the It's, space-joined). */
export function focusFor(specs: string[]): string {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^${escape(SUITE_DESCRIPTION)} (?:${specs.map(escape).join('|')})$`;
}

export const FULL_FOCUS = '\\[NodeConformance\\]';
