/**
 * Polls `predicate` until it holds or `timeoutMs` passes. Tests wait for the event they need, never for a
 * fixed sleep: fast machines pass fast and slow ones still pass. The predicate may ask the broker (a passive
 * declare, an HTTP call): then each poll waits for its answer.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets queued microtasks and immediates run (store batches, confirm flushes, yielded dispatch). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
