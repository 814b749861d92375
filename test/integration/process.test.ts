// The process's identity and limits, observed from inside the container.
import test from 'ava';
import { runScript } from '../helpers/run-in';
import { newRoot } from '../helpers/tsrun';

const root = newRoot();

const capLine = (out: string, name: string): string => new RegExp(`^Cap${name}:\\s*(\\w+)$`, 'm').exec(out)?.[1] ?? '';
const hex = (bits: number[]): string =>
  bits
    .reduce((m, b) => m | (1n << BigInt(b)), 0n)
    .toString(16)
    .padStart(16, '0');

test('capabilities: all five sets as configured', (t) => {
  const caps = {
    bounding: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_KILL'],
    permitted: ['CAP_CHOWN', 'CAP_NET_RAW'],
    effective: ['CAP_CHOWN'],
    inheritable: ['CAP_NET_RAW'],
    ambient: ['CAP_NET_RAW'],
  };
  // CHOWN=0, KILL=5, NET_RAW=13. A non-root process keeps across execve exactly its ambient set.
  const user = runScript(root, 'grep ^Cap /proc/self/status', (c) => {
    c.process!.capabilities = caps;
    c.process!.user = { uid: 1000, gid: 1000 };
  });
  t.is(user.code, 0, user.stderr);
  t.is(capLine(user.stdout, 'Bnd'), hex([0, 5, 13]));
  t.is(capLine(user.stdout, 'Inh'), hex([13]));
  t.is(capLine(user.stdout, 'Amb'), hex([13]));
  t.is(capLine(user.stdout, 'Prm'), hex([13]));
  t.is(capLine(user.stdout, 'Eff'), hex([13]));
  // Root gets its bounding set on execve, except that no_new_privs caps it at the old permitted set.
  const r = runScript(root, 'grep ^Cap /proc/self/status', (c) => (c.process!.capabilities = caps));
  t.is(capLine(r.stdout, 'Prm'), hex([0, 13]));
  t.is(capLine(r.stdout, 'Eff'), hex([0, 13]));
  const noNnp = runScript(root, 'grep ^Cap /proc/self/status', (c) => {
    c.process!.capabilities = caps;
    c.process!.noNewPrivileges = false;
  });
  t.is(capLine(noNnp.stdout, 'Prm'), hex([0, 5, 13]));
});

test('a dropped capability really blocks its operation', (t) => {
  const withTmp = (c: import('../../specs/oci/runtime-config').RuntimeConfig): void => {
    c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
  };
  const allowed = runScript(root, 'touch /tmp/f && chown 1:1 /tmp/f && echo ok', (c) => {
    withTmp(c);
    c.process!.capabilities = { bounding: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], effective: ['CAP_CHOWN'] };
  });
  t.is(allowed.stdout, 'ok\n', allowed.stderr);
  const denied = runScript(root, 'touch /tmp/f && chown 1:1 /tmp/f && echo ok', (c) => {
    withTmp(c);
    c.process!.capabilities = { bounding: [], permitted: [], effective: [] };
  });
  t.not(denied.code, 0);
  t.regex(denied.stderr, /Operation not permitted/);
});

test('user: uid, gid, additional gids, umask', (t) => {
  const r = runScript(root, 'id; umask', (c) => {
    c.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 2000], umask: 0o027 };
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'uid=1000 gid=1001 groups=5(tty),2000\n0027\n');
});

test('env, cwd and args reach the process exactly', (t) => {
  const r = runScript(root, 'pwd; env | sort; echo "$0|$1"', (c) => {
    c.process!.env = ['PATH=/bin', 'A=1', 'B=two words'];
    c.process!.cwd = '/etc';
    c.process!.args = ['sh', '-c', 'pwd; env | grep -v ^PWD= | grep -v ^SHLVL= | sort; echo "$0|$1"', 'zero', 'one'];
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '/etc\nA=1\nB=two words\nPATH=/bin\nzero|one\n');
});

test('rlimits are set; raising a hard limit fails clearly on this host', (t) => {
  const r = runScript(root, 'grep -E "open files|processes" /proc/self/limits', (c) => {
    c.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
      { type: 'RLIMIT_NPROC', soft: 50, hard: 60 },
    ];
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Max open files\s+100\s+200/);
  t.regex(r.stdout, /Max processes\s+50\s+60/);
  const high = runScript(root, 'true', (c) => {
    c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 31 }];
  });
  const hostHard = Number(/Max open files\s+\d+\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/limits', 'utf8'))![1]);
  if (hostHard < 2 ** 31) {
    t.is(high.code, 1);
    t.regex(high.stderr, /setrlimit RLIMIT_NOFILE .*CAP_SYS_RESOURCE/);
  } else t.is(high.code, 0);
});

test('oom_score_adj: raised as asked; lowering below zero fails clearly without CAP_SYS_RESOURCE', (t) => {
  const r = runScript(root, 'cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = 500));
  t.is(r.stdout, '500\n', r.stderr);
  const neg = runScript(root, 'cat /proc/self/oom_score_adj', (c) => (c.process!.oomScoreAdj = -500));
  const canLower =
    /^CapBnd:\s*\w*$/m.test('') || (BigInt('0x' + /^CapBnd:\s*(\w+)$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
  if (canLower) t.is(neg.stdout, '-500\n');
  else {
    t.is(neg.code, 1);
    t.regex(neg.stderr, /oom_score_adj to -500.*CAP_SYS_RESOURCE/);
  }
});

test('noNewPrivileges shows in /proc/self/status', (t) => {
  t.regex(runScript(root, 'grep NoNewPrivs /proc/self/status').stdout, /NoNewPrivs:\s+1/);
  t.regex(runScript(root, 'grep NoNewPrivs /proc/self/status', (c) => (c.process!.noNewPrivileges = false)).stdout, /NoNewPrivs:\s+0/);
});

test('the bounding set only shrinks: a capability tsrun itself lacks is dropped with a warning', (t) => {
  const own = BigInt('0x' + /^CapBnd:\s*(\w+)$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))![1]);
  if ((own >> 24n) & 1n) return t.pass('this host grants CAP_SYS_RESOURCE: nothing to drop');
  const r = runScript(root, 'grep ^CapBnd /proc/self/status', (c) => {
    c.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_SYS_RESOURCE'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /warning: capabilities CAP_SYS_RESOURCE are not in tsrun's own bounding set/);
  t.is(capLine(r.stdout, 'Bnd'), hex([0]));
});
