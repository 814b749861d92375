// What a lesson shows of a command's output: the real output with the values that change on
// every run (or every machine) replaced, so regenerating the lessons gives a small diff.
// The rules (documented in docs/lessons/README.md):
//   $REGISTRY $TSRUN_STORE $TSRUN_ROOT $LESSONS  the values of those variables in this run
//   [    <t> ms]                                  a step's timing in --explain output
//   <time>                                        a timestamp (ISO 8601)
//   <n> bytes used, <t> ms used                   usage figures in `tsrun inspect` (ja: 使用 <n> バイト)
//   ns:[<ino-N>]                                  an inode number (namespaces, pipes)
//   <pid-N>                                       a host process id
//   <id-N>                                        a CRI pod or container id, or its first 12+
//                                                 hex digits (crictl shows 13, cgroups 16)
//   <mac-N>, <veth-N>, @if<if-N>                  a MAC address, a veth's name, a peer's
//                                                 interface index on the host
//   127.0.0.1:<port>                              a port chosen when a server started
//   <when> ago                                    crictl's "how long ago"
// Within one lesson the same value always gets the same N, so "same" and "different" stay
// visible: two namespaces with one <ino-3> are one namespace.

const TIMING = /^\[ *\d+\.\d\d ms\]/;
const ISO_TIME = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g;
const INODE = /\b([a-z_]+):\[(\d+)\]/g;
// Where a host pid shows itself; the numbers learned here are replaced wherever they appear.
// Pids below 100 are left alone: inside a container's pid namespace pids are small and real.
// crictl runp and create print the new id alone on a line; ids are learned there only, since
// digests (image layers) look the same and must stay.
const CRI_ID_LINE = /^([0-9a-f]{64})$/gm;
const HEX_RUN = /(?<![0-9a-f])[0-9a-f]{12,64}(?![0-9a-f])/g;
const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g;
const AGO = /\b(?:Less than a second|About an? (?:minute|hour)|\d+ (?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)) ago\b/g;
const PID_CONTEXTS = [
  /\bpid (\d{3,})\b/g,
  /"pid": (\d{3,})\b/g,
  /\bjoined the cgroup: (\d{3,})\b/g,
  /への参加: (\d{3,})\b/g,
  /\/proc\/(\d{3,})\//g,
  /-> (\d{3,})$/gm,
  /^ +(\d{3,}) -> \d+ /gm,
];

export class Placeholders {
  private readonly literals: [string, string][];
  private readonly numbered = new Map<string, Map<string, string>>();

  /** `literals`: placeholder -> its value in this run, e.g. { $TSRUN_STORE: '/tmp/x/store' } */
  constructor(literals: Record<string, string>) {
    // Longest first, so a path inside another is not half-replaced.
    this.literals = Object.entries(literals)
      .filter(([, v]) => v)
      .sort((a, b) => b[1].length - a[1].length);
  }

  private number(kind: string, value: string): string {
    let m = this.numbered.get(kind);
    if (!m) this.numbered.set(kind, (m = new Map()));
    let p = m.get(value);
    if (!p) m.set(value, (p = `<${kind}-${m.size + 1}>`));
    return p;
  }

  /**
   * Replaces per column (text between runs of 2+ spaces) and gives the following gap what the
   * column gained or lost, so tables such as `tsrun inspect`'s stay aligned.
   */
  apply(output: string, command = ''): string {
    // Learn the pids from the whole output first: a pid may be shown before it is named.
    for (const re of PID_CONTEXTS) for (const m of output.matchAll(re)) this.number('pid', m[1]!);
    if (/\bcrictl\b/.test(command)) for (const m of output.matchAll(CRI_ID_LINE)) this.number('id', m[1]!);
    return output
      .split('\n')
      .map((line) => {
        const parts = line.replace(TIMING, '[    <t> ms]').split(/( {2,})/);
        for (let i = 0; i < parts.length; i += 2) {
          const before = parts[i]!;
          parts[i] = this.replace(before);
          if (i + 1 < parts.length) parts[i + 1] = ' '.repeat(Math.max(1, parts[i + 1]!.length + before.length - parts[i]!.length));
        }
        return parts.join('');
      })
      .join('\n');
  }

  private replace(text: string): string {
    let s = text;
    for (const [name, value] of this.literals) s = s.split(value).join(name);
    s = s.replace(ISO_TIME, '<time>');
    s = s.replace(/\b\d+ bytes used\b/g, '<n> bytes used').replace(/使用 \d+ バイト/g, '使用 <n> バイト');
    s = s.replace(/\b\d+(?:\.\d+)? ms used\b/g, '<t> ms used').replace(/使用 \d+(?:\.\d+)? ms/g, '使用 <t> ms');
    s = s.replace(INODE, (_all, kind: string, ino: string) => `${kind}:[${this.number('ino', ino)}]`);
    const ids = this.numbered.get('id');
    if (ids?.size)
      s = s.replace(HEX_RUN, (hex) => {
        for (const [id, p] of ids) if (id.startsWith(hex)) return p;
        return hex;
      });
    s = s.replace(MAC, (mac) => (/^(?:00:){5}00$|^(?:ff:){5}ff$/.test(mac) ? mac : this.number('mac', mac)));
    s = s.replace(/\bveth[0-9a-f]{8}\b/g, (v) => this.number('veth', v));
    // The peer's index when it is the host's (large); inside a fresh namespace they are small and real.
    s = s.replace(/@if(\d{3,})\b/g, (_all, n: string) => `@if${this.number('if', n)}`);
    s = s.replace(/\b127\.0\.0\.1:\d+\b/g, '127.0.0.1:<port>');
    s = s.replace(AGO, '<when> ago');
    const pids = this.numbered.get('pid');
    // Not after ":" (a JSON number such as "durationUs":1234 is not a pid) nor inside a word.
    if (pids?.size) s = s.replace(/(?<![:\w.])\d{3,}(?![\w.])/g, (n) => pids.get(n) ?? n);
    return s;
  }
}
