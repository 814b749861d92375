// A synchronous sleep that does not spin: the CLI is short-lived and sequential.
const cell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

/** The same, for code that also runs inside the CRI server, whose event loop must not stop. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
