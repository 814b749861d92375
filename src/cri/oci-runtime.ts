// The CRI server drives containers through the OCI runtime's command line, as containerd and
// CRI-O drive runc: the runtime's state stays its own, and a container outlives the server.
// Failures come back as the runtime's own JSON error line (message and TSRUN_E_* code).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError, type ErrorCode } from '../common/errors';
import { PROJECT_ROOT } from '../sys/native';

export const TSRUN_BIN = path.join(PROJECT_ROOT, 'bin', 'tsrun');

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** The runtime's last JSON error line, as a TsrunError (or a plain one naming the command). */
export function runtimeError(args: string[], stderr: string, code: number | null): TsrunError {
  for (const line of stderr.trim().split('\n').reverse()) {
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string; code?: ErrorCode };
      if (j.level === 'error' && j.msg) return new TsrunError(j.code ?? 'TSRUN_E_SYS', j.msg);
    } catch {
      /* not a log line */
    }
  }
  return new TsrunError('TSRUN_E_SYS', `tsrun ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-500)}`);
}

export class OciRuntime {
  constructor(readonly root: string) {
    fs.mkdirSync(path.dirname(root), { recursive: true, mode: 0o711 });
  }

  /** Warnings go to a log file beside the runtime's state, never into a container's output. */
  argv(args: string[]): string[] {
    return ['--root', this.root, '--log', `${this.root}.log`, '--log-format', 'json', ...args];
  }

  spawn(args: string[], stdio: StdioOptions): ChildProcess {
    return spawn(TSRUN_BIN, this.argv(args), { stdio });
  }

  /** Runs one command to its end, collecting output (bounded by maxOutput bytes each). */
  run(args: string[], opts: { input?: string; timeoutMs?: number; maxOutput?: number } = {}): Promise<RunResult> {
    const max = opts.maxOutput ?? 16 << 20;
    return new Promise((resolve, reject) => {
      const child = this.spawn(args, ['pipe', 'pipe', 'pipe']);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      child.stdout!.on('data', (b: Buffer) => {
        if (outLen < max) out.push(b.subarray(0, max - outLen));
        outLen += b.length;
      });
      child.stderr!.on('data', (b: Buffer) => {
        if (errLen < max) err.push(b.subarray(0, max - errLen));
        errLen += b.length;
      });
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? -1, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input ?? '');
    });
  }

  /** Runs a runtime verb that must succeed; throws the runtime's own error otherwise. */
  async must(args: string[], input?: string): Promise<string> {
    const r = await this.run(args, { input, timeoutMs: 120_000 });
    if (r.code !== 0) throw runtimeError(args, r.stderr.toString(), r.code);
    return r.stdout.toString();
  }

  start(id: string): Promise<string> {
    return this.must(['start', id]);
  }

  kill(id: string, signal: string, all = false): Promise<string> {
    return this.must(['kill', ...(all ? ['--all'] : []), id, signal]);
  }

  /** delete -f: kills what is left; a container the runtime no longer knows is fine. */
  async delete(id: string): Promise<void> {
    const r = await this.run(['delete', '--force', id], { timeoutMs: 120_000 });
    if (r.code === 0) return;
    const e = runtimeError(['delete', id], r.stderr.toString(), r.code);
    if (e.code !== 'TSRUN_E_NOT_FOUND' && !/does not exist/.test(e.message)) throw e;
  }

  update(id: string, resources: object): Promise<string> {
    return this.must(['update', '--resources', '-', id], JSON.stringify(resources));
  }
}
