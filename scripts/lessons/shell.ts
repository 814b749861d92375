// One bash for a whole run of lessons, as a learner has one terminal: `cd` and variables set by
// one command hold for the next. Each command's stdout and stderr go to one file (a detached
// container keeps what it inherited, and a pipe would never reach EOF), in the order written.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CommandOutput {
  output: string;
  code: number;
}

export class Shell {
  private readonly bash: ChildProcess;
  private buffered = '';
  private waiting: ((line: string) => void) | undefined;
  private seq = 0;
  private exited = false;

  constructor(
    cwd: string,
    env: Record<string, string>,
    private readonly outDir: string,
  ) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.bash.stdout!.setEncoding('utf8');
    this.bash.stdout!.on('data', (d: string) => {
      this.buffered += d;
      this.deliver();
    });
    // The shell's own complaints (a syntax error) belong with the command that caused them.
    this.bash.stderr!.setEncoding('utf8');
    this.bash.stderr!.on('data', (d: string) => fs.appendFileSync(path.join(this.outDir, `out-${this.seq}`), d));
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
    const out = path.join(this.outDir, `out-${n}`);
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

  close(): void {
    if (this.exited) return;
    this.bash.stdin!.end();
    this.bash.kill('SIGTERM');
  }
}
