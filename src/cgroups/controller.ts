// A controller knows how to write its part of linux.resources and read its statistics.
// Each driver has one file per controller and a table of them.
import type { LinuxResources } from '../../specs/oci/runtime-config';
import type { CgroupStats } from './stats';

export interface Controller {
  /** the controller's name as the kernel lists it (memory, cpu, io, ...) */
  name: string;
  /** true when `r` asks this controller for anything */
  wanted(r: LinuxResources): boolean;
  apply(dir: string, r: LinuxResources): void;
  stats?(dir: string, s: CgroupStats): void;
}
