// Version, Status, RuntimeConfig, UpdateRuntimeConfig, and the RPCs this runtime declines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { bridgeConflist } from '../cni';
import type { CriContext } from '../context';
import { CriError } from '../errors';
import type { CriReceived } from '../proto';

export const RUNTIME_NAME = 'tsrun';
export const RUNTIME_VERSION = '0.1.0';

export async function Version(_ctx: CriContext, _req: CriReceived<'VersionRequest'>) {
  return { version: '0.1.0', runtime_name: RUNTIME_NAME, runtime_version: RUNTIME_VERSION, runtime_api_version: 'v1' };
}

export async function Status(ctx: CriContext, req: CriReceived<'StatusRequest'>) {
  const net = ctx.cni.status();
  const info: Record<string, string> = {};
  // stateDir, as containerd names it: critest looks there for idmap support.
  if (req.verbose) info['config'] = JSON.stringify({ ...ctx.opts, runtimeRoot: ctx.paths.runtimeRoot });
  return {
    status: {
      conditions: [
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        {
          type: 'NetworkReady',
          status: net.ready,
          reason: net.ready ? '' : (net.reason ?? 'NetworkPluginNotReady'),
          message: net.ready ? '' : (net.message ?? ''),
        },
      ],
    },
    info,
    runtime_handlers: [{ name: '', features: { recursive_read_only_mounts: true, user_namespaces: true } }],
    features: { supplemental_groups_policy: true },
  };
}

/** The cgroup driver, which a kubelet (KubeletCgroupDriverFromCRI) takes as its own. */
export async function RuntimeConfig(ctx: CriContext, _req: CriReceived<'RuntimeConfigRequest'>) {
  return { linux: { cgroup_driver: ctx.opts.systemdCgroup ? ('SYSTEMD' as const) : ('CGROUPFS' as const) } };
}

/** The kubelet's pod CIDR: with no network config yet, a bridge network on that CIDR is written. */
export async function UpdateRuntimeConfig(ctx: CriContext, req: CriReceived<'UpdateRuntimeConfigRequest'>) {
  const cidr = req.runtime_config?.network_config?.pod_cidr;
  if (cidr && !ctx.cni.status().ready) {
    fs.mkdirSync(ctx.opts.cniConfDir, { recursive: true });
    const conf = bridgeConflist({ name: 'tsrun-pod-network', bridge: 'tsrun0', subnet: cidr.split(',')[0]!.trim() });
    fs.writeFileSync(path.join(ctx.opts.cniConfDir, '10-tsrun.conflist'), JSON.stringify(conf, null, 2));
  }
  return {};
}

const declined = (what: string) => async () => {
  throw new CriError(GrpcStatus.UNIMPLEMENTED, `${what} is not supported by tsrun`);
};
export const CheckpointContainer = declined('CheckpointContainer');
