/**
 * What escaped into the event loop while an input ran: an exception thrown from a timer, a `setImmediate` or a
 * promise callback of the broker's. In production each would end the process (Node's default for an uncaught
 * exception and, since Node 15, for an unhandled rejection); under the fuzzer they are caught here and fail the
 * input that caused them.
 */
export class EscapeWatch {
  private readonly seen: unknown[] = [];
  private readonly onError = (err: unknown): void => {
    this.seen.push(err);
  };

  start(): void {
    process.on('uncaughtException', this.onError);
    process.on('unhandledRejection', this.onError);
  }

  stop(): void {
    process.off('uncaughtException', this.onError);
    process.off('unhandledRejection', this.onError);
  }

  /** Everything seen since the last call. */
  take(): unknown[] {
    return this.seen.splice(0);
  }
}

/** Lets queued callbacks run: nextTick flushes, store microtasks, setImmediate dispatches, `rounds` times over. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
