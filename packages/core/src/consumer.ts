import type { Channel } from './channel';
import type { FieldTable } from './field-table';
import type { Message } from './message';
import type { Queue } from './queue';
import type { Delivery } from './queue-entry';

/** Implemented by a protocol: how a consumer's deliveries and cancellations reach the wire. */
export interface ConsumerSink {
  deliver(delivery: Delivery, consumer: Consumer): void;
  /** The broker ended the subscription (its queue was deleted): AMQP's server-sent basic.cancel. */
  cancelledByBroker(consumer: Consumer): void;
}

export interface ConsumeOptions {
  /** Empty: the broker generates one (amq.ctag-...). */
  consumerTag?: string;
  noAck?: boolean;
  exclusive?: boolean;
  arguments?: FieldTable;
  /** This consumer's prefetch; the channel's basic.qos (global=false) value when omitted. */
  prefetch?: number;
  /**
   * A filter (a STOMP selector): the queue offers this consumer only messages it accepts and keeps the others
   * for other consumers, looking past a head message nobody here wants.
   */
  accepts?: (msg: Message) => boolean;
}

export class Consumer {
  /** Deliveries awaiting ack from this consumer. */
  unacked = 0;
  cancelled = false;
  /** Deliveries so far, for the management API. */
  delivered = 0;

  constructor(
    readonly tag: string,
    readonly queue: Queue,
    readonly channel: Channel,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** x-priority: higher-priority consumers get messages first while they have credit. */
    readonly priority: number,
    /** Per-consumer prefetch (basic.qos global=false at consume time); 0 = unlimited. */
    readonly prefetch: number,
    readonly args: FieldTable,
    readonly sink: ConsumerSink,
    readonly accepts: ((msg: Message) => boolean) | undefined = undefined,
  ) {}

  /** Whether a delivery may go out now: channel open and flowing, socket writable, prefetch not reached. */
  hasCredit(): boolean {
    if (this.cancelled || !this.channel.isFlowing()) return false;
    // No-ack consumers ignore prefetch altogether, as RabbitMQ's do.
    if (this.noAck) return true;
    return (this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.hasGlobalCredit();
  }
}
