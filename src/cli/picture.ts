// --explain=html FILE: the steps a verb took, collected as they are emitted, and the container
// as the kernel shows it, written as one page when the verb ends (also when it failed: the
// steps up to the failure are the lesson). The container is seen twice: at `created`, when the
// init waits for start with everything in place, and at the end if it still runs.
import * as fs from 'node:fs';
import type { Sink } from '../events/bus';
import type { Lang } from '../events/narrate';
import { renderPicture, type ContainerView } from '../events/picture';
import type { StepEvent } from '../events/types';
import { inspectContainer } from '../runtime/inspect';

export interface Picture {
  sink: Sink;
  /** writes the page; `title` names the command */
  finish(): void;
}

export function startPicture(file: string, title: string, lang: Lang, root: string): Picture {
  const events: StepEvent[] = [];
  let container: ContainerView | undefined;
  const look = (id: string): void => {
    try {
      const seen = inspectContainer(root, id);
      if (seen.pid) container = seen;
    } catch {
      /* gone already (run deleted it): keep what was seen before */
    }
  };
  return {
    sink: (e) => {
      events.push(e);
      if (e.kind === 'created' && e.containerId) look(e.containerId);
    },
    finish: () => {
      const id = [...events].reverse().find((e) => e.containerId && e.kind !== 'deleted')?.containerId;
      if (id && !events.some((e) => e.kind === 'deleted' && e.containerId === id)) look(id);
      fs.writeFileSync(file, renderPicture({ title, lang, events, container }));
    },
  };
}
