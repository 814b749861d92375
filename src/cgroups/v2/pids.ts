// pids.max and pids.current have the same names and meaning in cgroup v1 and v2.
export { pids } from '../v1/pids';
