import test from 'ava';
import { familiarName, formatReference, parseReference } from '../../src/image/reference';

test('docker defaults: registry, library/ and latest', (t) => {
  t.deepEqual(parseReference('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined });
  t.is(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  t.is(formatReference(parseReference('user/app:1.2')), 'docker.io/user/app:1.2');
  t.is(familiarName(parseReference('docker.io/library/nginx:1.25')), 'nginx:1.25');
});

test('registries with ports, localhost, IPv6; nested paths; digests', (t) => {
  t.like(parseReference('127.0.0.1:5000/team/app:v1'), { registry: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' });
  t.like(parseReference('localhost/app'), { registry: 'localhost', repository: 'app', tag: 'latest' });
  t.like(parseReference('[::1]:5000/app:x'), { registry: '[::1]:5000', repository: 'app', tag: 'x' });
  t.like(parseReference('registry.k8s.io/e2e-test-images/busybox:1.29-2'), {
    registry: 'registry.k8s.io',
    repository: 'e2e-test-images/busybox',
    tag: '1.29-2',
  });
  const d = 'sha256:' + 'a'.repeat(64);
  t.like(parseReference(`busybox@${d}`), { repository: 'library/busybox', tag: undefined, digest: d });
  t.like(parseReference(`busybox:1@${d}`), { tag: '1', digest: d });
});

test('malformed references say what is wrong', (t) => {
  t.throws(() => parseReference('Busybox'), { message: /must be lowercase/ });
  t.throws(() => parseReference('busybox:bad tag'), { message: /malformed tag/ });
  t.throws(() => parseReference('busybox@sha256:abc'), { message: /malformed digest|64 lowercase hex/ });
  t.throws(() => parseReference('a//b'), { message: /malformed repository component/ });
  t.throws(() => parseReference(''), { message: /empty/ });
  t.throws(() => parseReference('-x'), { message: /malformed repository component/ });
});
