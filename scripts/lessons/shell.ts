// One bash for a whole run of lessons, as a learner has one terminal: `cd` and variables set by
// one command hold for the next. Each command's stdout and stderr go to one file (a detached
// container keeps what it inherited, and a pipe would never reach EOF), in the order written.
// The bash leads a process group of its own, so what a lesson starts in the background (a
// server) can be found and stopped, even when the lesson failed half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CommandOutput {
  output: string;
  code: number;
}

/**
 * Live processes whose process group is `pgid`, with their command names. Zombies are left out:
 * they run nothing, and an orphan's zombie stays as long as the machine's init leaves it.
 */
export function processGroup(pgid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return out;
}

export class Shell {
  private readonly bash: ChildProcess;
  private buffered = '';
  private waiting: ((line: string) => void) | undefined;
  private seq = 0;
  private exited = false;

  /** `name` keeps the output files of two shells on one directory apart. */
  constructor(
    cwd: string,
    env: Record<string, string>,
    private readonly outDir: string,
    private readonly name = 'out',
  ) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.bash.stdout!.setEncoding('utf8');
    this.bash.stdout!.on('data', (d: string) => {
      this.buffered += d;
      this.deliver();
    });
    // The shell's own complaints (a syntax error) belong with the command that caused them.
    this.bash.stderr!.setEncoding('utf8');
    this.bash.stderr!.on('data', (d: string) => fs.appendFileSync(path.join(this.outDir, `${this.name}-${this.seq}`), d));
    this.bash.on('exit', () => {
      this.exited = true;
      this.waiting?.('');
    });
  }

  private deliver(): void {
    const nl = this.buffered.indexOf('\n');
    if (nl < 0 || !this.waiting) return;
    const line = this.buffered.slice(0, nl);
    this.buffered = this.buffered.slice(nl + 1);
    const w = this.waiting;
    this.waiting = undefined;
    w(line);
  }

  /** Runs one command (it may span lines) and returns what it printed and its exit status. */
  async run(command: string, timeoutMs = 60_000): Promise<CommandOutput> {
    if (this.exited) throw new Error('the lesson shell has exited');
    const n = ++this.seq;
    const out = path.join(this.outDir, `${this.name}-${n}`);
    fs.writeFileSync(out, '');
    const mark = `__lesson_done_${n}__`;
    // The status line on its own line: after a syntax error bash still reads and runs it.
    this.bash.stdin!.write(`{\n${command}\n} >>'${out}' 2>&1 </dev/null\necho "${mark} $?"\n`);
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no end after ${timeoutMs / 1000} s: ${command}\n${fs.readFileSync(out, 'utf8')}`)), timeoutMs);
      this.waiting = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.deliver();
    });
    const m = new RegExp(`^${mark} (\\d+)$`).exec(line);
    const output = fs.readFileSync(out, 'utf8');
    fs.rmSync(out, { force: true });
    if (!m) throw new Error(`the lesson shell ${this.exited ? 'exited' : `printed ${JSON.stringify(line)}`} while running: ${command}\n${output}`);
    return { output, code: Number(m[1]) };
  }

  /** What the commands left running: background jobs (and their children) of this shell. */
  background(): { pid: number; comm: string }[] {
    if (this.exited || this.bash.pid === undefined) return [];
    return processGroup(this.bash.pid).filter((p) => p.pid !== this.bash.pid);
  }

  /**
   * Ends the shell and everything in its process group: SIGTERM first, so a server stops the
   * way it is meant to, then SIGKILL for what is left after `graceMs`.
   */
  async close(graceMs = 10_000): Promise<void> {
    const pgid = this.bash.pid;
    if (pgid === undefined) return;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pgid, sig);
      } catch {
        /* the group is empty */
      }
    };
    this.bash.stdin!.end();
    signal('SIGTERM');
    const until = Date.now() + graceMs;
    while (processGroup(pgid).length && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    signal('SIGKILL');
    while (processGroup(pgid).length && Date.now() < until + 5000) await new Promise((r) => setTimeout(r, 50));
    this.exited = true;
  }
}
