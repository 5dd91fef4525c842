/** Where a channel's publisher confirms go: AMQP basic.ack / basic.nack. */
export type ConfirmSink = (seq: number, multiple: boolean, ack: boolean) => void;

const PENDING = 0;
const ACKED = 1;
const NACKED = 2;
const SENT = 3;

/**
 * Publisher-confirm sequencing for one channel. Publishes are numbered from 1; each one completes as ack or
 * nack, now (transient, or refused) or once the store has it (persistent). Completions are sent at the end of
 * the turn, and a run of acks starting at the oldest unconfirmed publish goes out as one multiple=true ack,
 * as RabbitMQ does, so a busy publisher gets one ack per batch rather than per message.
 */
export class ConfirmTracker {
  private seq = 0;
  /** Every publish up to here has been confirmed on the wire. */
  private through = 0;
  private readonly states = new Map<number, number>();
  private flushScheduled = false;

  constructor(
    private readonly sink: ConfirmSink,
    /** Runs the end-of-turn flush: the channel's connection guard, so a sink that throws ends only it. */
    private readonly run: (fn: () => void) => void = (fn) => fn(),
  ) {}

  /** Numbers the next publish. */
  next(): number {
    const s = ++this.seq;
    this.states.set(s, PENDING);
    return s;
  }

  complete(seq: number, ack: boolean): void {
    if (this.states.get(seq) !== PENDING) return;
    this.states.set(seq, ack ? ACKED : NACKED);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.run(() => this.flush()));
    }
  }

  /** Publishes not yet confirmed (for the channel's close and for tests). */
  get outstanding(): number {
    return this.states.size;
  }

  private flush(): void {
    this.flushScheduled = false;
    // The leading run of completed publishes: one multiple=true ack covers it when it holds only fresh acks.
    let hi = this.through;
    let clean = true;
    for (;;) {
      const st = this.states.get(hi + 1);
      if (st !== ACKED && st !== SENT) break;
      if (st === SENT) clean = false;
      hi++;
    }
    if (hi > this.through) {
      if (clean) this.sink(hi, hi - this.through > 1, true);
      for (let s = this.through + 1; s <= hi; s++) {
        // Not clean: an earlier nack is in the run; a multiple ack would contradict it.
        if (!clean && this.states.get(s) === ACKED) this.sink(s, false, true);
        this.states.delete(s);
      }
      this.through = hi;
    }
    // Completions after a gap (an older publish still waiting for the disk) go out one by one.
    for (const [seq, st] of this.states) {
      if (st === ACKED || st === NACKED) {
        this.sink(seq, false, st === ACKED);
        this.states.set(seq, SENT);
      }
    }
    while (this.states.get(this.through + 1) === SENT) this.states.delete(++this.through);
  }
}
