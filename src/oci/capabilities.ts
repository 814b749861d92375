// Capability names in kernel number order (include/uapi/linux/capability.h).
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

const INDEX = new Map<string, number>(CAPABILITIES.map((c, i) => [c, i]));

export function capabilityNumber(name: string): number | undefined {
  return INDEX.get(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
}

export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const i = capabilityNumber(n);
    if (i !== undefined) mask |= 1n << BigInt(i);
  }
  return mask;
}

export function capabilityNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/**
 * Whether an unknown capability name fails the config. Runtime spec 1.0.x: "Any value which
 * cannot be mapped to a relevant kernel interface MUST cause an error"; from 1.1.0 it "MUST be
 * logged as a warning" and runtimes "SHOULD NOT fail". runc 1.1.5 warns for every version.
 */
export function unknownCapabilityIsError(ociVersion: string): boolean {
  const m = /^(\d+)\.(\d+)\./.exec(ociVersion);
  return !!m && Number(m[1]) === 1 && Number(m[2]) < 1;
}

/** The names in `names` this runtime has no number for. */
export function unknownCapabilities(names: readonly string[]): string[] {
  return names.filter((n) => capabilityNumber(n) === undefined);
}
