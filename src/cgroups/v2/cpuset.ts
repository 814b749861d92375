// cpuset.cpus and cpuset.mems are the same files in cgroup v1 and v2.
export { cpuset } from '../v1/cpuset';
