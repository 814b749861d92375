// `features`: what this runtime implements, in the runtime-spec's features.json shape.
import { CAPABILITIES } from '../oci/capabilities';
import { parseCommand } from './args';
import { PROPAGATION_WORDS, RECURSIVE_MOUNT_WORDS } from '../oci/mount-options';
import { NAMESPACE_TYPES } from '../../specs/oci/runtime-config';

export function features(argv: string[]): number {
  parseCommand('features', argv);
  const f = {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async',
      'atime',
      'bind',
      'defaults',
      'dev',
      'diratime',
      'dirsync',
      'exec',
      'lazytime',
      'mand',
      'noatime',
      'nodev',
      'nodiratime',
      'noexec',
      'nolazytime',
      'nomand',
      'norelatime',
      'nostrictatime',
      'nosuid',
      'nosymfollow',
      'rbind',
      'relatime',
      'remount',
      'ro',
      'rw',
      'strictatime',
      'suid',
      'symfollow',
      'sync',
      ...Object.keys(PROPAGATION_WORDS),
      ...RECURSIVE_MOUNT_WORDS,
    ].sort(),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.opencontainers.runc.checkpoint.enabled': 'false' },
  };
  process.stdout.write(JSON.stringify(f, null, 4) + '\n');
  return 0;
}
