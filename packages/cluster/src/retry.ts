/** First and last wait between two tries of a write the stream could not take. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * Tries a write to a stream until it lands or there is no point any more (the queue was deleted, the node is
 * leaving), waiting 100 ms after the first failure and twice as long after each next one, up to 2 s. The
 * caller writes with the same publish id every time, so a write that did land before its answer was lost is
 * dropped by the stream as a duplicate.
 */
export async function retryWrite(
  write: () => Promise<void>,
  giveUp: () => boolean,
  onFailure: (err: unknown, retryMs: number) => void,
): Promise<void> {
  let wait = RETRY_FIRST_MS;
  for (;;) {
    try {
      await write();
      return;
    } catch (err) {
      if (giveUp()) return;
      onFailure(err, wait);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
}

/** `read` as a function that starts it unless a read is under way, and never throws: counts read once at a time. */
export function oneAtATime(read: () => Promise<void>): () => void {
  let reading = false;
  const done = (): void => {
    reading = false;
  };
  return () => {
    if (reading) return;
    reading = true;
    read().then(done, done);
  };
}
