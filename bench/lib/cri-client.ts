// A small CRI client (runtime.v1 over gRPC on a unix socket), the same for every runtime the
// benches measure: containerd's CRI plugin and `tsrun cri` see exactly the same requests.
// The proto is the project's specs/cri/api.proto (k8s.io/cri-api v0.34.0); before that file
// exists the bench reads upstream's from $TSRUN_CRI_PROTO or the Go module cache, downloading
// it there with `go mod download` (never into the repository).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './report';

const CRI_API = 'k8s.io/cri-api@v0.34.0';

export function criProtoPath(): string {
  const own = path.join(ROOT, 'specs', 'cri', 'api.proto');
  if (fs.existsSync(own)) return own;
  const env = process.env['TSRUN_CRI_PROTO'];
  if (env && fs.existsSync(env)) return env;
  const mod = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-gomod-'));
  try {
    fs.writeFileSync(path.join(mod, 'go.mod'), 'module tsrunbench/criproto\n\ngo 1.21\n');
    const out = execFileSync('go', ['mod', 'download', '-json', CRI_API], {
      cwd: mod,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const dir = (JSON.parse(out) as { Dir?: string }).Dir;
    const file = dir && path.join(dir, 'pkg', 'apis', 'runtime', 'v1', 'api.proto');
    if (file && fs.existsSync(file)) return file;
    throw new Error(`go mod download ${CRI_API} gave no api.proto`);
  } catch (e) {
    throw new Error(`no CRI proto: specs/cri/api.proto is missing, $TSRUN_CRI_PROTO is unset, and fetching ${CRI_API} failed (${(e as Error).message})`, {
      cause: e,
    });
  } finally {
    fs.rmSync(mod, { recursive: true, force: true });
  }
}

// Field names as the proto spells them (snake_case), enums as their names, int64 as numbers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;

export interface CriClient {
  runtime(method: string, req: Msg, timeoutMs?: number): Promise<Msg>;
  image(method: string, req: Msg, timeoutMs?: number): Promise<Msg>;
  close(): void;
}

let pkg: grpc.GrpcObject | undefined;

export function criClient(socket: string): CriClient {
  if (!pkg) {
    const def = protoLoader.loadSync(criProtoPath(), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    pkg = grpc.loadPackageDefinition(def);
  }
  const v1 = (pkg['runtime'] as grpc.GrpcObject)['v1'] as grpc.GrpcObject;
  const addr = `unix://${socket}`;
  const opts = { 'grpc.max_receive_message_length': 16 << 20 };
  const RuntimeService = v1['RuntimeService'] as grpc.ServiceClientConstructor;
  const ImageService = v1['ImageService'] as grpc.ServiceClientConstructor;
  const rt = new RuntimeService(addr, grpc.credentials.createInsecure(), opts);
  const im = new ImageService(addr, grpc.credentials.createInsecure(), opts);
  const call = (c: grpc.Client, method: string, req: Msg, timeoutMs = 120_000): Promise<Msg> =>
    new Promise((resolve, reject) => {
      const fn = (c as unknown as Record<string, (r: Msg, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Msg) => void) => void>)[
        method
      ];
      if (!fn) return reject(new Error(`CRI has no method ${method}`));
      fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(new Error(`${method}: ${e.details || e.message}`)) : resolve(r),
      );
    });
  return {
    runtime: (m, r, t) => call(rt, m, r, t),
    image: (m, r, t) => call(im, m, r, t),
    close: () => (rt.close(), im.close()),
  };
}

/** Polls Version until the server answers (or the deadline passes). */
export async function waitForCri(c: CriClient, timeoutMs: number, alive: () => string | undefined): Promise<Msg> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    const dead = alive();
    if (dead) throw new Error(dead);
    try {
      return await c.runtime('Version', { version: 'v1' }, 2000);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`CRI server did not answer within ${timeoutMs} ms: ${(last as Error)?.message}`);
}
