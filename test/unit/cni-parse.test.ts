// CNI configs and results, parsed as libcni and the CRI plugins do (pure: no plugin runs here;
// test/cri/cni.test.ts runs the real plugins).
import test from 'ava';
import { compareVersions, parseConf, parseConfList, pluginStdin } from '../../src/cri/cni/config';
import { podAddresses, toPodNetworkResult } from '../../src/cri/cni/result';

const list = (o: object): string => JSON.stringify(o);
const bridge = { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.88.0.0/16' } };

test('a conflist: name, version, plugins in order, disableCheck as libcni reads it', (t) => {
  const l = parseConfList(
    list({ cniVersion: '1.0.0', name: 'pods', disableCheck: 'true', plugins: [bridge, { type: 'portmap', capabilities: { portMappings: true } }] }),
    'a.conflist',
  );
  t.like(l, { name: 'pods', cniVersion: '1.0.0', disableCheck: true });
  t.deepEqual(
    l.plugins.map((p) => p.type),
    ['bridge', 'portmap'],
  );
});

test('cniVersions (spec 1.1): the highest version this server knows is taken', (t) => {
  t.is(parseConfList(list({ cniVersions: ['0.4.0', '1.0.0', '9.9.9'], name: 'n', plugins: [bridge] }), 'x').cniVersion, '1.0.0');
});

test('a single .conf becomes a list of one; a list saved as .conf is named as the mistake it is', (t) => {
  const l = parseConf(list({ cniVersion: '0.3.1', name: 'n', ...bridge }), 'n.conf');
  t.is(l.plugins.length, 1);
  t.throws(() => parseConf(list({ cniVersion: '1.0.0', name: 'n', plugins: [bridge] }), 'n.conf'), { message: /name it \.conflist/ });
});

const REFUSED: [string, object, RegExp][] = [
  ['no cniVersion', { name: 'n', plugins: [bridge] }, /cniVersion is missing/],
  ['an unknown cniVersion', { cniVersion: '7.0.0', name: 'n', plugins: [bridge] }, /cniVersion "7.0.0" is not one of/],
  ['no name', { cniVersion: '1.0.0', plugins: [bridge] }, /has no "name"/],
  ['a name with a slash', { cniVersion: '1.0.0', name: 'a/b', plugins: [bridge] }, /must start with a letter or digit/],
  ['no plugins', { cniVersion: '1.0.0', name: 'n', plugins: [] }, /"plugins" is empty/],
  [
    'a plugin type that is a path',
    { cniVersion: '1.0.0', name: 'n', plugins: [{ type: '../../bin/sh' }] },
    /plugins\[0\] type "..\/..\/bin\/sh" is not a plugin file name/,
  ],
  [
    'an ipam type that is a path',
    { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge', ipam: { type: '/bin/sh' } }] },
    /plugins\[0\]\.ipam\.type "\/bin\/sh" is not a plugin file name/,
  ],
  ['disableCheck that is neither', { cniVersion: '1.0.0', name: 'n', disableCheck: 'maybe', plugins: [bridge] }, /disableCheck "maybe"/],
];
for (const [name, conf, why] of REFUSED) {
  test(`a conflist with ${name} is refused, naming the file and the field`, (t) => {
    const e = t.throws(() => parseConfList(list(conf), '/etc/cni/net.d/10-x.conflist'));
    t.regex(e?.message ?? '', why);
    t.regex(e?.message ?? '', /10-x\.conflist/);
  });
}
test('a file that is not JSON is refused naming it', (t) => {
  t.throws(() => parseConfList('{', 'bad.conflist'), { message: /bad\.conflist.*not JSON/ });
});

test('versions compare numerically', (t) => {
  t.true(compareVersions('0.10.0', '0.4.0') > 0);
  t.is(compareVersions('1.0', '1.0.0'), 0);
});

test("each plugin gets the list's name and version, the previous result, and only the capability args it declared", (t) => {
  const stdin = pluginStdin(
    { name: 'pods', cniVersion: '1.0.0' },
    { type: 'portmap', capabilities: { portMappings: true } },
    { ips: [] },
    { portMappings: [{ hostPort: 80 }], bandwidth: { rate: 1 } },
  );
  t.like(stdin, { name: 'pods', cniVersion: '1.0.0', type: 'portmap', prevResult: { ips: [] } });
  t.deepEqual(stdin['runtimeConfig'], { portMappings: [{ hostPort: 80 }] });
  const plain = pluginStdin({ name: 'pods', cniVersion: '1.0.0' }, bridge, undefined, { portMappings: [] });
  t.false('runtimeConfig' in plain);
  t.false('prevResult' in plain);
});

test('results of every spec version give the pod its addresses, IPv4 first', (t) => {
  const v1 = toPodNetworkResult('pods', {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'eth0', mac: '0a:58:0a:58:00:05', sandbox: '/var/run/netns/x' }],
    ips: [
      { address: 'fd00::5/64', interface: 0 },
      { address: '10.88.0.5/16', gateway: '10.88.0.1', interface: 0 },
    ],
    routes: [{ dst: '0.0.0.0/0' }],
  });
  t.deepEqual(podAddresses(v1), ['10.88.0.5', 'fd00::5']);
  t.is(v1.ips.find((i) => i.address.startsWith('fd00'))?.version, '6', 'the version is told by the address when 1.0 omits it');
  t.deepEqual(v1.routes, [{ dst: '0.0.0.0/0' }]);
  const v02 = toPodNetworkResult('pods', {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.7/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
  });
  t.deepEqual(podAddresses(v02), ['10.1.0.7']);
  t.deepEqual(v02.routes, [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }]);
  const junk = toPodNetworkResult('pods', { ips: [{ address: 5 }, null, 'x'] });
  t.deepEqual(junk.ips, [], 'malformed entries are skipped, not trusted');
});
