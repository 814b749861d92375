// linux.seccomp -> a BPF program (libseccomp, in this process) + load flags. Unknown syscall
// names are skipped with a warning, as runc does; anything else invalid is an error here,
// before a container exists.
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { compileSeccomp } from '../sys/native';

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};
const NEW_LISTENER = 8;

export interface CompiledSeccomp {
  bpf: Buffer;
  flags: number;
  /** for SCMP_ACT_NOTIFY: where the listener fd goes, and the message sent before the state */
  listenerPath: string;
  listenerPrefix: string;
  warnings: string[];
  rules: number;
}

export function compileSeccompSection(seccomp: NonNullable<NonNullable<RuntimeConfig['linux']>['seccomp']>, ociVersion: string): CompiledSeccomp {
  const fail = (msg: string): never => {
    throw new TsrunError('TSRUN_E_CONFIG', `linux.seccomp: ${msg}`);
  };
  let flags = 0;
  for (const f of seccomp.flags ?? []) flags |= FLAGS[f] ?? fail(`flags: unknown flag ${JSON.stringify(f)}`);
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') fail('defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  const notify = (seccomp.syscalls ?? []).some((s) => s.action === 'SCMP_ACT_NOTIFY');
  if (notify && !seccomp.listenerPath) fail('listenerPath: SCMP_ACT_NOTIFY needs a listenerPath');
  if (notify) flags |= NEW_LISTENER;
  let out: { bpf: Buffer; unknown: string[] };
  try {
    out = compileSeccomp({
      defaultAction: seccomp.defaultAction,
      defaultErrnoRet: seccomp.defaultErrnoRet,
      architectures: seccomp.architectures,
      syscalls: (seccomp.syscalls ?? []).map((s) => ({
        ...s,
        args: s.args?.map((a) => ({ ...a, value: BigInt(a.value).toString(), valueTwo: a.valueTwo === undefined ? undefined : BigInt(a.valueTwo).toString() })),
      })),
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  const warnings = out.unknown.length ? [`seccomp: syscalls unknown to this libseccomp were skipped: ${[...new Set(out.unknown)].join(', ')}`] : [];
  const prefix = `{"ociVersion":${JSON.stringify(ociVersion)},"fds":["seccompFd"],"metadata":${JSON.stringify(seccomp.listenerMetadata ?? '')},"state":`;
  return {
    bpf: out.bpf,
    flags,
    listenerPath: notify ? seccomp.listenerPath! : '',
    listenerPrefix: notify ? prefix : '',
    warnings,
    rules: (seccomp.syscalls ?? []).length,
  };
}
