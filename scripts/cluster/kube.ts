// kubectl from the build, as the cluster's admin.
import * as path from 'node:path';
import type { ClusterPlan } from './layout';
import { K8S_BIN } from './layout';
import { kubeconfigPath } from './pki';
import { run, tryRun, type Ran } from './sh';

export const KUBECTL = path.join(K8S_BIN, 'kubectl');

export function kubectlArgs(plan: ClusterPlan, args: string[]): string[] {
  return ['--kubeconfig', kubeconfigPath(plan, 'admin'), ...args];
}

export function kubectl(plan: ClusterPlan, args: string[], input?: string): string {
  return run(KUBECTL, kubectlArgs(plan, args), { input, timeout: 60_000 });
}

export function tryKubectl(plan: ClusterPlan, args: string[], input?: string): Ran {
  return tryRun(KUBECTL, kubectlArgs(plan, args), { input, timeout: 30_000 });
}

interface NodeStatus {
  metadata: { name: string };
  spec: { podCIDR?: string; taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function getNodes(plan: ClusterPlan): NodeStatus[] | undefined {
  const r = tryKubectl(plan, ['get', 'nodes', '-o', 'json']);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { items: NodeStatus[] }).items;
}

/** "Ready", or why not: the Ready condition's reason and message. */
export function readiness(node: NodeStatus | undefined): string {
  if (!node) return 'not registered';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return 'no Ready condition yet';
  return ready.status === 'True' ? 'Ready' : `${ready.reason ?? 'NotReady'}: ${ready.message ?? ''}`;
}
