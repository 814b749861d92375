// Jazzer.js target: config.json as `tsrun create` takes it. Bytes -> parse + schema + rules
// (load-bundle's parseConfig) -> both plans compiled (create and exec, the seccomp filter through
// libseccomp) -> the plan encoded as the init receives it. A config either is refused with a
// TSRUN_E_CONFIG naming its JSON path, or compiles: nothing else may escape.
import { compileCreatePlan, compileExecPlan, type CompileOptions } from '../../src/oci/compile-plan';
import { parseConfig } from '../../src/oci/load-bundle';
import { encodePlan } from '../../src/oci/plan-encode';
import { Finding, refusal } from '../oracle';

const OPTS: CompileOptions = { foreground: false, preserveFds: 0, events: true, hostBounding: (1n << 41n) - 1n };
const CGROUP = { driver: 'v1' as const, dirs: { memory: '/sys/fs/cgroup/memory/tsrun/fuzz', 'name=systemd': '/sys/fs/cgroup/systemd/tsrun/fuzz', 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/tsrun/fuzz' } };

export function fuzz(data: Buffer): void {
  let config;
  try {
    config = parseConfig(data.toString('utf8'));
  } catch (e) {
    return refusal(e);
  }
  try {
    const { plan } = compileCreatePlan(config, { ...OPTS, rootfs: '/run/tsrun-fuzz/rootfs', execFifo: '/run/tsrun-fuzz/exec.fifo', noPivot: false, cgroup: CGROUP });
    const bytes = encodePlan(plan);
    // The init reads at most 64 MiB in one frame (sync.cc); a config of at most 8 MiB must fit.
    if (bytes.length > 64 << 20) throw new Finding(`a plan of ${bytes.length} bytes from a config of ${data.length}`);
    encodePlan(compileExecPlan(config, config.process!, 1, OPTS).plan);
  } catch (e) {
    refusal(e);
  }
}
