// Steps that succeeded, to be undone in reverse when a later step fails.
import { logWarn } from '../common/log';

export class UndoStack {
  private steps: { what: string; fn: () => void }[] = [];

  push(what: string, fn: () => void): void {
    this.steps.push({ what, fn });
  }

  run(): void {
    for (const s of this.steps.reverse()) {
      try {
        s.fn();
      } catch (e) {
        logWarn(`cleanup: ${s.what}: ${(e as Error).message}`);
      }
    }
    this.steps = [];
  }
}
