// Records -> CRI messages, and the filters of the List RPCs.
import type { Container, ContainerStatus, PodSandbox, PodSandboxStatus } from '../proto';
import type { ContainerRecord, SandboxRecord } from '../store/types';

export function matchLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export function sandboxMessage(s: SandboxRecord): PodSandbox {
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    created_at: s.createdAt,
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtime_handler: s.runtimeHandler,
  };
}

export function sandboxStatus(s: SandboxRecord): PodSandboxStatus {
  const opts = s.config.linux?.security_context?.namespace_options;
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    created_at: s.createdAt,
    network: { ip: s.ip ?? '', additional_ips: s.additionalIps.map((ip) => ({ ip })) },
    linux: { namespaces: { options: { network: opts?.network ?? 'POD', pid: opts?.pid ?? 'POD', ipc: opts?.ipc ?? 'POD', target_id: opts?.target_id ?? '' } } },
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtime_handler: s.runtimeHandler,
  };
}

export function containerMessage(c: ContainerRecord): Container {
  return {
    id: c.id,
    pod_sandbox_id: c.sandboxId,
    metadata: c.config.metadata,
    image: { image: c.imageName, annotations: c.config.image?.annotations ?? {} },
    image_ref: c.imageDigest || c.imageId,
    image_id: c.imageId,
    state: c.state,
    created_at: c.createdAt,
    labels: c.config.labels,
    annotations: c.config.annotations,
  };
}

export function containerStatus(c: ContainerRecord): ContainerStatus {
  return {
    id: c.id,
    metadata: c.config.metadata,
    state: c.state,
    created_at: c.createdAt,
    started_at: c.startedAt,
    finished_at: c.exit?.finishedAt ?? '0',
    exit_code: c.exit?.exitCode ?? 0,
    image: { image: c.imageName, annotations: c.config.image?.annotations ?? {} },
    image_ref: c.imageDigest || c.imageId,
    image_id: c.imageId,
    reason: c.exit?.reason ?? '',
    message: c.exit?.message ?? '',
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.mounts,
    log_path: c.logPath,
    resources: c.config.linux?.resources ? { linux: c.config.linux.resources } : null,
    user: { linux: { uid: String(c.user.uid), gid: String(c.user.gid), supplemental_groups: c.user.supplementalGroups.map(String) } },
    stop_signal: (c.stopSignal.startsWith('SIG') ? c.stopSignal : `SIG${c.stopSignal}`) as never,
  };
}
