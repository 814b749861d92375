import test from 'ava';
import { parseFlags } from '../../src/cli/args';
import { TsrunError } from '../../src/common/errors';

const SPECS = [
  { name: 'bundle', alias: 'b', type: 'string' as const },
  { name: 'detach', alias: 'd', type: 'bool' as const },
  { name: 'preserve-fds', type: 'int' as const },
  { name: 'env', alias: 'e', type: 'list' as const },
];

test('long and short flags, = and separate values, one or two dashes', (t) => {
  const p = parseFlags(['--bundle', 'b1', '-d', '-preserve-fds=2', '-e', 'A=1', '--env=B=2', 'id'], SPECS, false);
  t.deepEqual(p.flags, { bundle: 'b1', detach: true, 'preserve-fds': 2, env: ['A=1', 'B=2'] });
  t.deepEqual(p.args, ['id']);
});

test('stopAtPositional keeps the command line of exec intact', (t) => {
  const p = parseFlags(['-d', 'ctr', 'sh', '-c', 'echo -d'], SPECS, true);
  t.deepEqual(p.args, ['ctr', 'sh', '-c', 'echo -d']);
  t.deepEqual(p.flags, { detach: true });
});

test('errors name the flag', (t) => {
  t.throws(() => parseFlags(['--nope'], SPECS, false), { instanceOf: TsrunError, message: /flag provided but not defined: --nope/ });
  t.throws(() => parseFlags(['--bundle'], SPECS, false), { message: /flag needs an argument: --bundle/ });
  t.throws(() => parseFlags(['--preserve-fds', 'x'], SPECS, false), { message: /not a number/ });
});

test('-- ends the flags; --flag=false turns a bool off', (t) => {
  t.deepEqual(parseFlags(['--', '-d'], SPECS, false).args, ['-d']);
  t.deepEqual(parseFlags(['--detach=false'], SPECS, false).flags, { detach: false });
});
