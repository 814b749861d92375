// The OCI runtime state, as `tsrun state` prints it (runc's shape: the spec's fields plus
// rootfs, created and owner).
// zod's v3 API (in the same package) loads in a third of v4's time, which every `tsrun create`
// and `exec` pays before it can read a config.
import { z } from 'zod/v3';

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
