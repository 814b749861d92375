// Platforms: "linux/amd64", "linux/arm64/v8"; the default is the host's.
import { TsrunError } from '../common/errors';
import type { Descriptor } from '../../specs/oci/image';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH: Record<string, [string, string?]> = {
  x64: ['amd64'],
  arm64: ['arm64', 'v8'],
  arm: ['arm', 'v7'],
  ia32: ['386'],
  ppc64: ['ppc64le'],
  s390x: ['s390x'],
  riscv64: ['riscv64'],
};

export function hostPlatform(): Platform {
  const [architecture, variant] = ARCH[process.arch] ?? [process.arch];
  return { os: 'linux', architecture, variant };
}

export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) throw new TsrunError('TSRUN_E_USAGE', `--platform ${JSON.stringify(s)}: expected OS/ARCH[/VARIANT]`);
  return { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The index entry for `want`: exact variant first, then one without a variant (arm64 ~ v8). */
export function selectManifest(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture);
  return candidates.find((m) => (m.platform!.variant ?? '') === (want.variant ?? '')) ?? candidates.find((m) => !m.platform!.variant || !want.variant);
}
