// GetContainerEvents: a server stream of container lifecycle changes (the kubelet's evented
// PLEG), each with the container's pod status and the statuses of its containers.
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { CriContext } from '../context';
import type { ContainerEventResponse, CriReceived } from '../proto';
import { containerStatus, sandboxStatus } from './convert';

export function GetContainerEvents(ctx: CriContext, call: ServerWritableStream<CriReceived<'GetEventsRequest'>, ContainerEventResponse>): void {
  const onEvent = (e: ContainerEventResponse): void => {
    const c = ctx.containers.get(e.container_id ?? '');
    const podId = c?.sandboxId;
    const pod = podId ? ctx.sandboxes.get(podId) : undefined;
    call.write({
      ...e,
      pod_sandbox_status: pod ? sandboxStatus(pod) : null,
      containers_statuses: pod
        ? ctx.containers
            .all()
            .filter((x) => x.sandboxId === pod.id)
            .map(containerStatus)
        : [],
    });
  };
  ctx.events.on('container', onEvent);
  const stop = (): void => {
    ctx.events.off('container', onEvent);
  };
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
}
