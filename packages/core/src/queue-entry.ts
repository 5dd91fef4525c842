import type { Consumer } from './consumer';
import type { Message } from './message';
import type { Queue } from './queue';

/**
 * A message's place in one queue. The same object is the delivery while unacked (tag, consumer), so a
 * delivery costs no allocation beyond the entry made at enqueue.
 */
export class QueueEntry {
  /** Times handed to a consumer or basic.get; > 0 means the next delivery is a redelivery. */
  deliveryCount = 0;
  /** Channel-scoped delivery tag while unacked; 0 while ready. */
  tag = 0;
  /** The consumer holding it, or undefined for basic.get and ready entries. */
  consumer: Consumer | undefined = undefined;
  /** Set while an ack/nack for it is buffered in a transaction, so it cannot be settled twice. */
  settling = false;
  /** Whether it is in its queue's ready list (kept by ReadyList). */
  inReady = false;

  constructor(
    readonly queue: Queue,
    /** The message, or its paged-out stand-in while it waits on disk in a ready list (Message.paged). */
    public msg: Message,
    /** Publish order within the queue; requeues go back by it. */
    readonly seq: number,
    /** Absolute ms when it expires; 0 for never. */
    readonly expiresAt: number,
  ) {}

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }
}

/** What a protocol reads to send a delivery. */
export type Delivery = QueueEntry;
