// Hooks that run in the runtime's namespaces: createRuntime and prestart (failure aborts the
// create), poststart and poststop (failure is a warning). The state JSON goes on stdin.
import { spawnSync } from 'node:child_process';
import type { HookConfig, HooksConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { logWarn } from '../common/log';
import { step } from '../events/bus';
import { hookEnv } from '../oci/compile-plan';

export type RuntimeHookPhase = 'prestart' | 'createRuntime' | 'poststart' | 'poststop';

function runHook(phase: RuntimeHookPhase, h: HookConfig, state: string): void {
  const env: Record<string, string> = {};
  for (const kv of hookEnv(h)) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const args = h.args?.length ? h.args : [h.path];
  const r = spawnSync(h.path, args.slice(1), {
    argv0: args[0],
    input: state,
    env,
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim();
  const tail = output ? `: ${output}` : '';
  // EPIPE: the hook exited without reading its stdin, which is allowed.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') {
    if ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT')
      throw new TsrunError('TSRUN_E_HOOK', `${phase} hook ${h.path} ran past its timeout of ${h.timeout}s`);
    throw new TsrunError('TSRUN_E_HOOK', `${phase} hook ${h.path}: ${r.error.message}`);
  }
  if (r.signal) throw new TsrunError('TSRUN_E_HOOK', `${phase} hook ${h.path} was killed by ${r.signal}${tail}`);
  if (r.status !== 0) throw new TsrunError('TSRUN_E_HOOK', `${phase} hook ${h.path} failed with exit status ${r.status}${tail}`);
}

export function runHooks(hooks: HooksConfig | undefined, phase: RuntimeHookPhase, state: string, containerId: string): void {
  for (const h of hooks?.[phase] ?? []) {
    const run = (): void => step('hook', `${phase} ${h.path}`, () => runHook(phase, h, state), containerId);
    if (phase === 'poststart' || phase === 'poststop') {
      try {
        run();
      } catch (e) {
        logWarn((e as Error).message);
      }
    } else run();
  }
}
