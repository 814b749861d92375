// Kubernetes' node conformance suite (e2e_node v1.34.4, [NodeConformance]) against a CRI
// runtime on this machine: `tsrun cri`, or containerd 1.6 with the same images, kubelet and
// suite. The host side: builds the stand-in images (the host's network reaches Debian's
// mirror), makes a cgroup of the run's own in every hierarchy, starts node.js inside new
// mount, network, cgroup, IPC and UTS namespaces rooted there, waits, then leaves nothing
// behind: every process in that cgroup killed, the cgroups removed, the namespaces (and with
// them every mount, link, route, iptables rule and sysctl the run made) gone with their last
// process, the work directory removed. Reports land in outDir.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allE2eNodeImageRefs, E2E_NODE_STAND_INS } from '../../fixtures/e2e-node-images';
import { ensureBuilt } from '../../fixtures/stand-in-images';
import { K8S_BIN_DIR, K8S_VERSION, k8sBin } from '../../helpers/kubernetes';
import { BUILD, TSRUN } from '../../helpers/tsrun';
import type { NodeRunConfig, RuntimeName } from './config';
import { countStates, specsFromGinkgoReport, writeSummary, type Summary } from './report';

const CGROUP_ROOT = '/sys/fs/cgroup';
const KUBELET_ROOT = '/var/lib/kubelet';

export interface RunOptions {
  runtime: RuntimeName;
  /** ginkgo focus regex (config.ts: FULL_FOCUS, or focusFor(specs)) */
  focus: string;
  /** reports and logs go here (created) */
  outDir: string;
  /** ginkgo's own suite timeout (default 4h) */
  ginkgoTimeout?: string;
  /** progress lines (the node side's log, and a count of finished specs now and then) */
  progress?: (line: string) => void;
  /** stops the run early (the suite is interrupted, and everything is cleaned up as usual) */
  signal?: AbortSignal;
}

/** cgroup hierarchies (v1 controllers, named ones, the v2 tree) mounted under /sys/fs/cgroup. */
function hierarchies(): string[] {
  return fs.readdirSync(CGROUP_ROOT).filter((h) => fs.existsSync(path.join(CGROUP_ROOT, h, 'cgroup.procs')));
}

/** Directories below `dir`, deepest first, then `dir`. */
function treeDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  let kids: fs.Dirent[];
  try {
    kids = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const k of kids) if (k.isDirectory()) out.push(...treeDeepestFirst(path.join(dir, k.name)));
  out.push(dir);
  return out;
}

/** Every process in the run's cgroup tree, in any hierarchy. */
function processesIn(cgroup: string): number[] {
  const pids = new Set<number>();
  for (const h of hierarchies()) {
    for (const d of treeDeepestFirst(path.join(CGROUP_ROOT, h, cgroup))) {
      try {
        for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (Number(p) > 1) pids.add(Number(p));
      } catch {
        /* removed meanwhile */
      }
    }
  }
  pids.delete(process.pid);
  return [...pids];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kills what is left in the run's cgroups and removes them; returns what could not be. */
async function removeCgroups(cgroup: string): Promise<string[]> {
  for (let i = 0; i < 300; i++) {
    const pids = processesIn(cgroup);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  const left: string[] = [];
  const pids = processesIn(cgroup);
  if (pids.length) left.push(`processes ${pids.join(' ')} in ${cgroup}`);
  for (const h of hierarchies()) {
    for (const d of treeDeepestFirst(path.join(CGROUP_ROOT, h, cgroup))) {
      for (let i = 0; ; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // A cgroup whose last task has just died stays busy for a moment.
          if (code === 'EBUSY' && i < 50) {
            await sleep(100);
            continue;
          }
          left.push(`cgroup ${d}: ${(e as Error).message}`);
          break;
        }
      }
    }
  }
  return left;
}

function makeCgroups(cgroup: string): void {
  for (const h of hierarchies()) {
    const dir = path.join(CGROUP_ROOT, h, cgroup);
    fs.mkdirSync(dir);
    // A v1 cpuset cgroup starts with no CPUs and no memory nodes: nothing could join it.
    if (fs.existsSync(path.join(dir, 'cpuset.cpus')))
      for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(CGROUP_ROOT, h, f)));
  }
}

function preconditions(runtime: RuntimeName): void {
  if (process.getuid?.() !== 0) throw new Error('node conformance runs as root (it makes namespaces, cgroups and mounts)');
  for (const c of ['e2e_node', 'kubelet']) if (!k8sBin(c)) throw new Error(`${path.join(K8S_BIN_DIR, c)} is missing: run scripts/install-kubernetes.sh`);
  if (runtime === 'tsrun' && !fs.existsSync(path.join(BUILD, 'tsrun-monitor'))) throw new Error(`${BUILD}/tsrun-monitor is missing: run npm run build`);
  if (runtime === 'containerd') {
    try {
      fs.accessSync('/usr/bin/containerd', fs.constants.X_OK);
    } catch {
      throw new Error('containerd is not installed: run scripts/install.sh');
    }
  }
}

/** Runs the suite; resolves with its summary (also written to outDir) once everything is cleaned up. */
export async function runNodeConformance(o: RunOptions): Promise<Summary> {
  preconditions(o.runtime);
  const progress = o.progress ?? (() => {});
  const started = new Date();
  fs.mkdirSync(o.outDir, { recursive: true });
  const imagesDir = await ensureBuilt(E2E_NODE_STAND_INS);
  // Not under /tmp: the node side mounts a /tmp of its own over it.
  const workDir = fs.mkdtempSync('/var/tmp/tsrun-conformance-');
  const id = path.basename(workDir);
  const inner = path.join(workDir, 'out');
  fs.mkdirSync(inner);
  const madeKubeletRoot = !fs.existsSync(KUBELET_ROOT);
  // The mount point for the run's own kubelet root (bind-mounted over it inside).
  if (madeKubeletRoot) fs.mkdirSync(KUBELET_ROOT, { recursive: true });
  makeCgroups(id);

  const config: NodeRunConfig = {
    runtime: o.runtime,
    workDir,
    outDir: inner,
    imagesDir,
    images: allE2eNodeImageRefs(),
    focus: o.focus,
    ginkgoTimeout: o.ginkgoTimeout ?? '4h',
    tsrun: TSRUN,
    k8sBinDir: K8S_BIN_DIR,
    keepVisible: [path.resolve(TSRUN, '..', '..')],
  };
  const configFile = path.join(workDir, 'run.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

  let error: string | undefined;
  const leftovers: string[] = [];
  let poll: NodeJS.Timeout | undefined;
  try {
    const procs = hierarchies().map((h) => path.join(CGROUP_ROOT, h, id, 'cgroup.procs'));
    // Joins the run's cgroups first: a cgroup namespace is rooted where its creator stands.
    const script =
      'for f in "$@"; do echo $$ > "$f" || exit 125; done\nexec unshare --mount --net --cgroup --ipc --uts --propagation private -- "$TSRUN_NODE" "$TSRUN_NODE_SIDE" "$TSRUN_NODE_CONFIG"';
    const nodeLog = fs.openSync(path.join(inner, 'node.log'), 'w');
    const child = spawn('sh', ['-c', script, 'sh', ...procs], {
      env: { ...process.env, TSRUN_NODE: process.execPath, TSRUN_NODE_SIDE: path.join(__dirname, 'node.js'), TSRUN_NODE_CONFIG: configFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (d: Buffer): void => {
      fs.writeSync(nodeLog, d);
      for (const l of d.toString().split('\n')) if (l.trim()) progress(l);
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    const e2eLog = path.join(inner, 'e2e.log');
    let reported = '';
    poll = setInterval(() => {
      try {
        const text = fs.readFileSync(e2eLog, 'utf8');
        const done = (text.match(/^• /gm) ?? []).length + (text.match(/^S \[SKIPPED\]/gm) ?? []).length;
        const failed = (text.match(/^• \[FAILED\]/gm) ?? []).length;
        const line = `${done} specs done, ${failed} failed`;
        if (line !== reported) progress(`[run] ${line}`);
        reported = line;
      } catch {
        /* not started yet */
      }
    }, 60_000);
    // Aborted: the node side stops the suite and the runtime's pods, then exits (or is killed).
    let killer: NodeJS.Timeout | undefined;
    const abort = (): void => {
      progress('[run] interrupted: stopping the suite');
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    };
    if (o.signal?.aborted) abort();
    o.signal?.addEventListener('abort', abort, { once: true });
    const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
    o.signal?.removeEventListener('abort', abort);
    if (killer) clearTimeout(killer);
    fs.closeSync(nodeLog);
    if (code === 125) error = 'could not join the run cgroups';
    else if (!fs.existsSync(path.join(inner, 'ginkgo.json')))
      error = `the suite did not run (node side exited ${code}; see ${path.join(o.outDir, 'node.log')} and e2e.log)`;
  } finally {
    if (poll) clearInterval(poll);
    leftovers.push(...(await removeCgroups(id)));
    const stillMounted = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(workDir));
    if (stillMounted.length) leftovers.push(`mounts ${stillMounted.join(' ')}`);
    for (const f of fs.readdirSync(inner)) fs.cpSync(path.join(inner, f), path.join(o.outDir, f), { recursive: true });
    if (!stillMounted.length) fs.rmSync(workDir, { recursive: true, force: true });
    // Another run may stand on that mount point now (a run's cgroup lives as long as the run).
    const othersRunning = fs
      .readdirSync('/var/tmp')
      .some((d) => d.startsWith('tsrun-conformance-') && d !== id && hierarchies().some((h) => fs.existsSync(path.join(CGROUP_ROOT, h, d))));
    if (madeKubeletRoot && !othersRunning) {
      try {
        fs.rmdirSync(KUBELET_ROOT);
      } catch (e) {
        leftovers.push(`${KUBELET_ROOT}: ${(e as Error).message}`);
      }
    }
  }

  const reportFile = path.join(o.outDir, 'ginkgo.json');
  const { specs, suiteFailures } = fs.existsSync(reportFile) ? specsFromGinkgoReport(reportFile) : { specs: [], suiteFailures: [] };
  if (!error && suiteFailures.length) error = suiteFailures.join('; ');
  const versionFile = path.join(o.outDir, 'runtime-version');
  const summary: Summary = {
    runtime: o.runtime,
    runtimeVersion: fs.existsSync(versionFile) ? fs.readFileSync(versionFile, 'utf8').trim() : o.runtime,
    kubernetes: K8S_VERSION,
    started: started.toISOString(),
    finishedSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    focus: o.focus,
    counts: countStates(specs),
    specs,
    leftovers,
    ...(error ? { error } : {}),
  };
  writeSummary(o.outDir, summary);
  return summary;
}
