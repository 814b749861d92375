// Makes Jazzer.js 4.0.0's prebuilt addon load on Debian 12. It was linked against glibc 2.38
// (__isoc23_strtol, __isoc23_strtoul) and GCC 13's libstdc++ (std::ios_base_library_init), one
// release newer than this system has, for those three symbols only. The loader refuses a library
// that needs a version its dependency lacks, so the addon (as npm installed it; nothing of it is
// kept in the repository) is edited in place: the two version needs become optional
// (VER_FLG_WEAK) and the three symbols unversioned, and fuzz/out/bin/libjazzer-compat.so, preloaded
// into each fuzz run, defines them (native/fuzz/jazzer_compat.cc). A system whose glibc already
// has them is left alone.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;
const VER_NDX_GLOBAL = 1;
const NEWER_VERSIONS = new Set(['GLIBC_2.38', 'GLIBCXX_3.4.32']);
const NEWER_SYMBOLS = new Set(['__isoc23_strtol', '__isoc23_strtoul', '_ZSt21ios_base_library_initv']);

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

function sections(b: Buffer): Section[] {
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  return Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return { type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)), link: b.readUInt32LE(o + 0x28), entsize: Number(b.readBigUInt64LE(o + 0x38)) };
  });
}

function cstring(b: Buffer, at: number): string {
  return b.toString('latin1', at, b.indexOf(0, at));
}

/** Edits the addon's version needs; returns how many entries it changed (0: nothing to do). */
export function relaxVersionNeeds(file: string): number {
  const b = fs.readFileSync(file);
  const secs = sections(b);
  let changed = 0;
  const verneed = secs.find((s) => s.type === SHT_GNU_VERNEED);
  if (verneed) {
    const strtab = secs[verneed.link]!.offset;
    for (let off = verneed.offset; ; ) {
      const cnt = b.readUInt16LE(off + 2);
      let aux = off + b.readUInt32LE(off + 8);
      for (let i = 0; i < cnt; i++) {
        const flags = b.readUInt16LE(aux + 4);
        if (NEWER_VERSIONS.has(cstring(b, strtab + b.readUInt32LE(aux + 8))) && !(flags & VER_FLG_WEAK)) {
          b.writeUInt16LE(flags | VER_FLG_WEAK, aux + 4);
          changed++;
        }
        aux += b.readUInt32LE(aux + 12);
      }
      const next = b.readUInt32LE(off + 12);
      if (!next) break;
      off += next;
    }
  }
  const dynsym = secs.find((s) => s.type === SHT_DYNSYM);
  const versym = secs.find((s) => s.type === SHT_GNU_VERSYM);
  if (dynsym && versym) {
    const strtab = secs[dynsym.link]!.offset;
    for (let i = 0; i < dynsym.size / dynsym.entsize; i++) {
      const name = cstring(b, strtab + b.readUInt32LE(dynsym.offset + i * dynsym.entsize));
      const at = versym.offset + i * 2;
      if (NEWER_SYMBOLS.has(name) && b.readUInt16LE(at) !== VER_NDX_GLOBAL) {
        b.writeUInt16LE(VER_NDX_GLOBAL, at);
        changed++;
      }
    }
  }
  if (changed) fs.writeFileSync(file, b);
  return changed;
}

function glibcOlderThan238(): boolean {
  const v = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ?? '2.38';
  const [major, minor] = v.split('.').map(Number);
  return major! < 2 || (major === 2 && minor! < 38);
}

/** The environment a Jazzer.js run needs here: LD_PRELOAD of the compat library, if any. */
export function jazzerEnv(root: string): NodeJS.ProcessEnv {
  if (process.platform !== 'linux' || process.arch !== 'x64' || !glibcOlderThan238()) return {};
  const addon = path.join(root, 'node_modules', '@jazzer.js', 'fuzzer', 'prebuilds', 'fuzzer-linux-x64.node');
  relaxVersionNeeds(addon);
  const compat = path.join(root, 'fuzz', 'out', 'bin', 'libjazzer-compat.so');
  if (!fs.existsSync(compat)) throw new Error(`${compat} is missing: scripts/build-fuzzers.sh builds it`);
  return { LD_PRELOAD: compat };
}
