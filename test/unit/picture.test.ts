// How the picture groups the event stream into stages (the rest of the page is tested in a real
// browser: test/integration/picture.test.ts).
import test from 'ava';
import { stagesOf } from '../../src/events/picture';
import type { StepKind } from '../../src/events/types';

test("the picture's stages: the runtime, the init before and after pivot_root; an exec's init steps are one stage", (t) => {
  const ev = (kind: StepKind, containerId = 'c1') => ({ kind, detail: '', durationUs: 1, time: '', containerId });
  t.deepEqual(
    stagesOf([
      ev('config_loaded'),
      ev('clone'),
      ev('mount'),
      ev('pivot_root'),
      ev('hostname'),
      ev('seccomp'),
      ev('created'),
      ev('blob_fetched'),
      ev('pod_network'),
    ]),
    ['runtime', 'init-before', 'init-before', 'init-before', 'init-after', 'init-after', 'runtime', 'image', 'pod'],
  );
  t.deepEqual(stagesOf([ev('setns', 'c2'), ev('capabilities', 'c2'), ev('started', 'c2')]), ['init', 'init', 'runtime']);
});
