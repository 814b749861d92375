// Layer media types -> a decompressing stream. gzip via zlib; zstd via Debian's zstd tool,
// since this Node has no zstd in zlib.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { TsrunError } from '../../common/errors';

export type Compression = 'gzip' | 'zstd' | 'none';

export function compressionOf(mediaType: string): Compression {
  if (/(\+|\.)gzip$|tar\.gzip$|\.tar\.gz$/.test(mediaType) || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip') return 'gzip';
  if (/\+zstd$/.test(mediaType)) return 'zstd';
  if (/\.tar$|diff\.tar$/.test(mediaType)) return 'none';
  throw new TsrunError('TSRUN_E_LAYER', `unsupported layer media type ${mediaType}`);
}

export function decompress(input: Readable, c: Compression): Readable {
  if (c === 'none') return input;
  if (c === 'gzip') return input.pipe(zlib.createGunzip());
  const out = new PassThrough();
  const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.on('error', (e) => out.destroy(new TsrunError('TSRUN_E_LAYER', `zstd: ${e.message} (is Debian's zstd package installed?)`)));
  child.on('close', (code) => {
    if (code !== 0) out.destroy(new TsrunError('TSRUN_E_LAYER', `zstd could not decompress the layer: ${err.trim() || `exit ${code}`}`));
  });
  input.on('error', (e) => out.destroy(e));
  input.pipe(child.stdin);
  child.stdin.on('error', () => {
    /* zstd exited early: its exit status tells why */
  });
  child.stdout.pipe(out);
  return out;
}
