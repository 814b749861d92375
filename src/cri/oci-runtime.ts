// The CRI server drives its containers with the runtime's own modules, in-process: create,
// start, signal, exec, update and delete are function calls on the runtime's state (its --root), so
// `tsrun --root <runDir>/runtime list|state|ps` still shows them, and no verb starts a Node
// process. Calls on one container run one at a time here; the runtime's flock on its state
// dir still keeps them apart from a CLI user's calls on the same container.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources, RuntimeConfig } from '../../specs/oci/runtime-config';
import { atomicWriteFileSync } from '../common/atomic-write';
import { TsrunError } from '../common/errors';
import { KeyedMutex } from '../common/keyed-mutex';
import { createContainer, type Created } from '../runtime/create';
import { deleteContainer } from '../runtime/delete';
import { commandProcess, execInContainer } from '../runtime/exec';
import { killContainer } from '../runtime/kill';
import { mergeResources, updateContainer } from '../runtime/resources';
import { sendPlan, type InitStdio } from '../runtime/spawn';
import { startContainer } from '../runtime/start';
import { StateDir } from '../runtime/state-dir';
import { loadRecord } from '../runtime/state';
import type { LaunchedMonitor, StartedMonitor } from './monitor';

export interface ExecCall {
  args: string[];
  tty?: boolean;
  /** with tty: where the init sends the pty master */
  consoleSocket?: string;
  /** appended to the container's own environment */
  env?: string[];
  stdio: InitStdio;
  onSpawned?: (child: ChildProcess) => void;
  onStarted?: (pid: number) => void;
}

export class OciRuntime {
  private readonly calls = new KeyedMutex();

  constructor(
    readonly root: string,
    /** containers' cgroups through systemd (their state says so for later calls) */
    readonly systemdCgroup = false,
  ) {
    fs.mkdirSync(path.dirname(root), { recursive: true, mode: 0o711 });
  }

  /**
   * Creates the container from its bundle, the init started by `monitor` so that it is the
   * monitor's child: the config is loaded, validated and compiled here, and the sync protocol
   * spoken here, with the runtime's own create. Returns the init's pid, the monitor serving it.
   */
  create(id: string, bundle: string, monitor: LaunchedMonitor, consoleSocket?: string): Promise<StartedMonitor> {
    return this.calls.run(id, async () => {
      let made: Created;
      try {
        made = await createContainer({
          root: this.root,
          id,
          bundle,
          consoleSocket,
          systemdCgroup: this.systemdCgroup,
          // The monitor is the init's parent; a failed create abandons it below, which cleans up.
          spawn: (plan) => ({ child: monitor.child, sync: sendPlan(monitor.initSync, plan, id), exited: monitor.initClosed, stop: () => undefined }),
        });
      } catch (e) {
        await monitor.abandon();
        throw e;
      }
      try {
        return await monitor.adopt(made.record.pid);
      } catch (e) {
        await deleteContainer(this.root, id, true).catch(() => undefined);
        throw e;
      }
    });
  }

  start(id: string): Promise<void> {
    return this.calls.run(id, () => startContainer(this.root, id));
  }

  kill(id: string, signal: string, all = false): Promise<void> {
    return this.calls.run(id, async () => killContainer(this.root, id, signal, all));
  }

  /**
   * delete --force: kills what is left. A container the runtime no longer knows is fine: false
   * then (its state went with the run dir, say), true when there was one to delete.
   */
  delete(id: string): Promise<boolean> {
    return this.calls.run(id, async () => {
      try {
        return await deleteContainer(this.root, id, true);
      } catch (e) {
        if (!(e instanceof TsrunError && e.code === 'TSRUN_E_NOT_FOUND')) throw e;
        return false;
      }
    });
  }

  update(id: string, resources: LinuxResources): Promise<void> {
    return this.calls.run(id, async () => updateContainer(this.root, id, resources));
  }

  /** For a container not made yet: the bundle's config.json gets the resources it will be made with. */
  updateBundle(bundle: string, resources: LinuxResources): void {
    const file = path.join(bundle, 'config.json');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeConfig;
    const linux = (spec.linux ??= {});
    linux.resources = mergeResources(linux.resources, resources);
    atomicWriteFileSync(file, JSON.stringify(spec, null, 1));
  }

  /**
   * Runs a process in the container and resolves with its exit status. Other calls on the
   * container wait only until it runs (a long exec must not hold up a stop), as the runtime's
   * own lock is held only that long.
   */
  async exec(id: string, call: ExecCall): Promise<number> {
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    let done!: Promise<number>;
    await this.calls.run(id, async () => {
      const base = loadRecord(new StateDir(this.root, id)).config.process;
      if (!base) throw new TsrunError('TSRUN_E_CONFIG', `container ${id} has no process to base an exec on`);
      const proc = commandProcess(base, call.args, !!call.tty);
      if (call.env?.length) proc.env = [...(proc.env ?? []), ...call.env];
      done = execInContainer({
        root: this.root,
        id,
        process: proc,
        detach: false,
        consoleSocket: call.consoleSocket,
        stdio: call.stdio,
        keepSignals: true,
        onSpawned: call.onSpawned,
        onStarted: (pid) => {
          call.onStarted?.(pid);
          running();
        },
      });
      await Promise.race([
        started,
        done.then(
          () => undefined,
          () => undefined,
        ),
      ]);
    });
    return done;
  }
}
