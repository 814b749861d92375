// What every CRI runtime under test shares: a local docker-registry serving a busybox image and
// a pause image (tsrun's static tsrun-pause as the image's only file), a CNI conflist of
// Debian's bridge + host-local + portmap plugins in a bench-owned directory (its own bridge and
// subnet), and containerd-style hosts.toml files that send pulls for the registry over HTTP.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../../test/fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../../test/fixtures/oci-builder';
import { startRegistry, type Registry } from '../../test/fixtures/registry';
import { ROOT } from './report';

export const CNI_BIN_DIR = '/usr/lib/cni';
// Own bridge and subnet per bench process, so two bench runs on one machine never share leases.
const NET = 20 + (process.pid % 200);
export const BRIDGE = `tsbench${NET}`;
export const SUBNET = `10.234.${NET}.0/24`;
const PAUSE_BIN = path.join(ROOT, 'build', 'Release', 'tsrun-pause');

export interface CriEnv {
  dir: string;
  registry: Registry;
  busybox: string;
  pause: string;
  cniConfDir: string;
  /** containerd-style certs.d: <registry>/hosts.toml */
  hostsDir: string;
  /** a cgroup parent of the bench's own, under which both runtimes put their pods */
  cgroupParent: string;
  close(): Promise<void>;
}

function writeConflist(dir: string, ipamData: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const conf = {
    cniVersion: '1.0.0',
    name: 'tsrun-bench',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamData },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  fs.writeFileSync(path.join(dir, '10-tsrun-bench.conflist'), JSON.stringify(conf, null, 2));
}

export async function criEnv(): Promise<CriEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-cri-'));
  const registry = await startRegistry('plain');
  const layout = new OciLayout(path.join(dir, 'oci'));
  layout.tag('busybox', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'] }));
  if (!fs.existsSync(PAUSE_BIN)) throw new Error(`${PAUSE_BIN} is missing: run npm run build`);
  const pauseTar = await tarOf([{ name: 'pause', body: fs.readFileSync(PAUSE_BIN), mode: 0o755 }]);
  layout.tag('pause', layout.image([pauseTar], { Entrypoint: ['/pause'] }));
  const busybox = `${registry.addr}/bench/busybox:v1`;
  const pause = `${registry.addr}/bench/pause:v1`;
  push(layout.dir, 'busybox', busybox);
  push(layout.dir, 'pause', pause);

  const hostsDir = path.join(dir, 'certs.d');
  fs.mkdirSync(path.join(hostsDir, registry.addr), { recursive: true });
  fs.writeFileSync(
    path.join(hostsDir, registry.addr, 'hosts.toml'),
    `server = "http://${registry.addr}"\n\n[host."http://${registry.addr}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  // One lease store for both runtimes: they share the bridge and subnet, at times at once.
  const cniConfDir = path.join(dir, 'net.d');
  writeConflist(cniConfDir, path.join(dir, 'ipam'));
  const cgroupParent = `/tsrun-bench-${process.pid}`;
  return {
    dir,
    registry,
    busybox,
    pause,
    cniConfDir,
    hostsDir,
    cgroupParent,
    close: async () => {
      await registry.stop();
      try {
        execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
      } catch {
        /* not created */
      }
      removeCgroups(cgroupParent);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** rmdir the bench's cgroup parent in every hierarchy, deepest first (never anything else). */
export function removeCgroups(parent: string): void {
  const walk = (d: string): void => {
    let kids: fs.Dirent[];
    try {
      kids = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const k of kids) if (k.isDirectory()) walk(path.join(d, k.name));
    try {
      fs.rmdirSync(d);
    } catch {
      /* busy or gone */
    }
  };
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', h, parent);
    if (fs.existsSync(d)) walk(d);
  }
}

/** Unmounts whatever is still mounted under dir (deepest first), then removes it. */
export function removeTree(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
