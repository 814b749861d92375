// Steps that succeeded, to be undone in reverse when a later step fails. A step may be
// asynchronous (a CNI teardown); each is awaited before the one below it.
import { logWarn } from './log';

export class UndoStack {
  private steps: { what: string; fn: () => unknown }[] = [];

  push(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  async run(): Promise<void> {
    for (const s of this.steps.reverse()) {
      try {
        await s.fn();
      } catch (e) {
        logWarn(`cleanup: ${s.what}: ${(e as Error).message}`);
      }
    }
    this.steps = [];
  }
}
