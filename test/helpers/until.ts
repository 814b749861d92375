// Waiting for something a test cannot be told about: poll until it is there, with a deadline.

/** Polls fn until it gives a value; throws naming `what` after ms. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
