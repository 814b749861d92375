// The OCI runtime state, as `tsrun state` prints it (runc's shape: the spec's fields plus
// rootfs, created and owner).
import { z } from 'zod';

export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

export const OciState = z.object({
  ociVersion: z.string(),
  id: z.string(),
  pid: z.number().int(),
  status: z.enum(CONTAINER_STATUSES),
  bundle: z.string(),
  rootfs: z.string(),
  created: z.string(),
  owner: z.string(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type OciState = z.infer<typeof OciState>;
