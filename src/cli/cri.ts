// tsrun cri: serve the Kubernetes CRI (RuntimeService + ImageService) until SIGTERM/SIGINT.
// Containers keep running when the server stops; a new server finds them again.
import { CriServer } from '../cri/server';
import { defaultCriOptions } from '../cri/options';
import { logError } from '../common/log';
import { int, list, parseCommand, str } from './args';
import type { Globals } from './globals';

export async function cri(argv: string[], g: Globals): Promise<number> {
  const { flags } = parseCommand('cri', argv);
  const o = defaultCriOptions({ store: g.store, systemdCgroup: g.systemdCgroup });
  const set = <K extends keyof typeof o>(k: K, v: (typeof o)[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('listen', str(flags['listen']));
  set('stateDir', str(flags['state-dir']));
  set('runDir', str(flags['run-dir']));
  set('cniConfDir', str(flags['cni-conf-dir']));
  if (list(flags['cni-bin-dir']).length) o.cniBinDirs = list(flags['cni-bin-dir']);
  set('registryConfig', str(flags['registry-config']));
  set('streamHost', str(flags['stream-address']));
  set('streamPort', int(flags['stream-port']));
  set('defaultCgroupParent', str(flags['cgroup-parent']));
  if (flags['restrict-oom-score-adj']) o.restrictOomScoreAdj = true;
  const server = new CriServer(o);
  if (g.explainHtml) {
    const { addSink } = require('../events/bus') as typeof import('../events/bus');
    const { podPictures } = require('../cri/picture') as typeof import('../cri/picture');
    addSink(podPictures(server.ctx, g.explainHtml.dir, g.explainHtml.lang));
  }
  await server.start();
  process.stderr.write(`tsrun cri: serving ${o.listen} (streaming on ${server.streaming.baseUrl})\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.stop().then(resolve, (e: Error) => {
        logError(e.message);
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
