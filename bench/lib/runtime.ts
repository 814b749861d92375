// A CRI runtime under test: its socket and client, which processes are its own (for memory),
// and a clean stop. containerd and `tsrun cri` both come out as one of these.
import type { ChildProcess } from 'node:child_process';
import type { CriClient } from './cri-client';

export interface OwnProcesses {
  /** the daemon(s): containerd, or the `tsrun cri` server */
  daemon: number[];
  /** per-pod helpers: containerd-shim-runc-v2, or tsrun-monitor */
  helpers: number[];
}

export interface CriRuntime {
  /** short name in rows: "containerd" or "tsrun" */
  name: string;
  /** what the rows call it, with its version */
  label: string;
  socket: string;
  /** the directory holding its state, run dir and store, when the bench made one (tsrun) */
  dir?: string;
  client: CriClient;
  helperName: string;
  processes(): OwnProcesses;
  /** removes every pod it still has, stops the daemon and its helpers, removes its dirs */
  stop(): Promise<void>;
}

/** Resolves when the child exits, or after ms (then false). */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => (clearTimeout(t), resolve(true)));
  });
}

/** Stops and removes every pod sandbox the runtime lists (best effort: the bench is ending). */
export async function removeAllPods(c: CriClient): Promise<void> {
  try {
    const { items } = await c.runtime('ListPodSandbox', {}, 30_000);
    for (const p of items as { id: string }[]) {
      await c.runtime('StopPodSandbox', { pod_sandbox_id: p.id }, 60_000).catch(() => undefined);
      await c.runtime('RemovePodSandbox', { pod_sandbox_id: p.id }, 60_000).catch(() => undefined);
    }
  } catch {
    /* the daemon is gone */
  }
}
