// A synchronous sleep that does not spin: the CLI is short-lived and sequential.
const cell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
