// Where the CRI puts pods and containers in the cgroup tree, for either cgroup driver. With
// cgroupfs, directories: the kubelet's pod cgroup (or /tsrun-cri/pod-ID) and the container's
// id below it. With systemd (`tsrun --systemd-cgroup cri`, containerd's SystemdCgroup = true),
// the kubelet names its pod cgroups as slices ("kubepods-besteffort-pod<uid>.slice"), a pod
// without one gets a slice of its own (tsrun-pod<id>.slice, in tsrun.slice), and each container
// is a scope in its pod's slice: "SLICE:tsrun:ID" (containerd's prefix is cri-containerd).
import * as path from 'node:path';
import { expandSlice } from '../cgroups/systemd/unit';
import { invalid } from './errors';
import type { CriOptions } from './options';
import type { SandboxRecord } from './store/types';

export const SCOPE_PREFIX = 'tsrun';

/** The pod's cgroup parent: the kubelet's, or one the server makes (ownCgroupParent). */
export function podCgroupParent(opts: CriOptions, requested: string | undefined, id: string): string {
  if (!opts.systemdCgroup) return requested || `${opts.defaultCgroupParent}/pod-${id.slice(0, 16)}`;
  if (requested) {
    // A kubelet may give the slice's whole path: its last part names it.
    const slice = path.posix.basename(requested);
    if (!slice.endsWith('.slice'))
      throw invalid(
        `linux.cgroup_parent ${JSON.stringify(requested)}: the systemd cgroup driver takes a slice name (NAME.slice); is the kubelet's cgroupDriver cgroupfs? RuntimeConfig reports SYSTEMD`,
      );
    expandSlice(slice);
    return slice;
  }
  const base = opts.defaultCgroupParent.endsWith('.slice') ? opts.defaultCgroupParent.slice(0, -'.slice'.length) : SCOPE_PREFIX;
  return `${base}-pod${id.slice(0, 16)}.slice`;
}

/** linux.cgroupsPath of a container (or the pod's infra process) named `name` in the pod. */
export function containerCgroupsPath(s: SandboxRecord, name: string): string {
  return s.systemdCgroup ? `${s.cgroupParent}:${SCOPE_PREFIX}:${name}` : `${s.cgroupParent}/${name}`;
}

/** The cgroupsPath of the pod's own slice unit (its parent slice, by its dashes, is Wants=). */
export function podSlicePath(s: SandboxRecord): string {
  const name = s.cgroupParent.slice(0, -'.slice'.length);
  const parent = name.includes('-') ? `${name.slice(0, name.lastIndexOf('-'))}.slice` : '-.slice';
  return `${parent}:${SCOPE_PREFIX}:${s.cgroupParent}`;
}
