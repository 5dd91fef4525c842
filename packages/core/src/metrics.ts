/**
 * What the broker counts for monitoring (packages/prometheus reads it at scrape time). Everything here is a
 * plain integer incremented where the core already does the work it counts: no allocation per message, no
 * call into a metrics library on the data path.
 */

/**
 * A histogram with fixed upper bounds: `counts[i]` is how many observations fell in (bounds[i-1], bounds[i]],
 * the last slot those above every bound. Not cumulative: exporters add up the buckets when asked.
 */
export class FixedHistogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** The buckets of RabbitMQ's rabbitmq_message_size_bytes: 64 bytes to 256 MiB in steps of four. */
export const MESSAGE_SIZE_BUCKETS: readonly number[] = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456,
];

/**
 * One protocol's message totals, RabbitMQ's rabbitmq_global_messages_* counters. Every connection of the
 * protocol shares one instance (Broker.protocolCounters), so the totals outlive the connections.
 */
export class ProtocolCounters {
  /** Publishes accepted from clients, and those of them on a channel in confirm mode. */
  received = 0;
  receivedConfirm = 0;
  /** Publishes that reached at least one queue. */
  routed = 0;
  /** Publishes that reached no queue: dropped (not mandatory) or returned to the publisher (mandatory). */
  unroutableDropped = 0;
  unroutableReturned = 0;
  /** Publisher confirms sent (acks, not nacks). */
  confirmed = 0;
  /** Deliveries by how they were asked for: basic.consume or basic.get, with automatic or manual acks. */
  deliveredConsumeAutoAck = 0;
  deliveredConsumeManualAck = 0;
  deliveredGetAutoAck = 0;
  deliveredGetManualAck = 0;
  redelivered = 0;
  acknowledged = 0;
  /** basic.get on an empty queue. */
  getEmpty = 0;
  /** Body sizes of the publishes received. */
  readonly messageSizes = new FixedHistogram(MESSAGE_SIZE_BUCKETS);
}

/** Connections and channels opened and closed since the broker started (RabbitMQ's churn metrics). */
export interface ChurnCounters {
  connectionsOpened: number;
  connectionsClosed: number;
  channelsOpened: number;
  channelsClosed: number;
}

export interface DeathCounts {
  expired: number;
  maxlen: number;
  rejected: number;
  /** Returned past a quorum queue's x-delivery-limit. */
  delivery_limit: number;
}

/**
 * Messages that died in a queue, by reason, under RabbitMQ's dead_letter_strategy labels: at_most_once when
 * the queue has a dead-letter exchange (republished, unconfirmed), disabled when it has none (dropped).
 */
export interface DeadLetterCounters {
  atMostOnce: DeathCounts;
  disabled: DeathCounts;
}
