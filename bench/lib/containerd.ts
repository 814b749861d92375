// containerd with its CRI plugin, started by the bench with a config of its own
// (test/helpers/containerd-cri.ts): root and state in a temp dir, its own sockets, the bench's
// CNI dirs and registry hosts, the bench's pause image. Stopped cleanly after.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnContainerdCri } from '../../test/helpers/containerd-cri';
import { criClient, waitForCri } from './cri-client';
import { CNI_BIN_DIR, removeTree, type CriEnv } from './cri-env';
import { allProcs } from './procs';
import { exited, removeAllPods, type CriRuntime } from './runtime';

export function containerdVersion(): string {
  try {
    return execFileSync('containerd', ['--version'], { encoding: 'utf8' }).split(' ')[2]?.replace(/~.*/, '') ?? '?';
  } catch {
    return '?';
  }
}

export async function startContainerd(env: CriEnv): Promise<CriRuntime> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-ctrd-'));
  const { child, socket: sock } = spawnContainerdCri({ dir, pause: env.pause, cniConfDir: env.cniConfDir, cniBinDir: CNI_BIN_DIR, hostsDir: env.hostsDir });
  process.on('exit', () => child.kill('SIGKILL'));
  const client = criClient(sock);
  try {
    await waitForCri(client, 30_000, () =>
      child.exitCode !== null
        ? `containerd exited (${child.exitCode}); see ${dir}/containerd.log:\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`
        : undefined,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  // Its shims name the daemon's socket in their command line: that tells them from any other
  // containerd's shims on this machine.
  const shims = (): number[] =>
    allProcs()
      .filter((p) => p.comm.startsWith('containerd-shim') && p.cmdline.includes(sock))
      .map((p) => p.pid);
  return {
    name: 'containerd',
    label: `containerd ${containerdVersion()} CRI`,
    socket: sock,
    client,
    helperName: 'containerd-shim-runc-v2',
    processes: () => ({ daemon: [child.pid!], helpers: shims() }),
    stop: async () => {
      await removeAllPods(client);
      client.close();
      child.kill('SIGTERM');
      if (!(await exited(child, 15_000))) child.kill('SIGKILL');
      for (const pid of shims()) process.kill(pid, 'SIGKILL');
      removeTree(dir);
    },
  };
}
