import type { Broker, Channel, Connection, Queue } from '@warren/core';

/**
 * The per-object metrics: one row per queue, channel and connection, in rabbitmq_prometheus's names, HELP
 * texts and metric families (the `family` a /metrics/detailed request picks). /metrics sums each over its
 * objects; /metrics/per-object gives one sample per object with RabbitMQ's labels.
 */
export interface ObjectMetric<T> {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  /** RabbitMQ's family for /metrics/detailed?family=... */
  readonly family: string;
  readonly value: (object: T, scrape: Scrape) => number;
}

/** What a scrape reads once and every row shares: unacked bytes are held by channels, not queues. */
export interface Scrape {
  unackedBytes: Map<Queue, number>;
}

/** Walks every channel's unacked deliveries once per scrape, so queues need no per-message bookkeeping. */
export function startScrape(broker: Broker): Scrape {
  const unackedBytes = new Map<Queue, number>();
  for (const c of broker.connections.values()) {
    for (const ch of c.channels.values()) {
      for (const e of ch.unacked.values()) {
        unackedBytes.set(e.queue, (unackedBytes.get(e.queue) ?? 0) + e.msg.size);
      }
    }
  }
  return { unackedBytes };
}

const readyBytes = (q: Queue): number => q.ready.bytes;
const unackedBytes = (q: Queue, s: Scrape): number => s.unackedBytes.get(q) ?? 0;

export const QUEUE_METRICS: readonly ObjectMetric<Queue>[] = [
  {
    name: 'rabbitmq_queue_messages_ready',
    help: 'Messages ready to be delivered to consumers',
    type: 'gauge',
    family: 'queue_coarse_metrics',
    value: (q) => q.messageCount,
  },
  {
    name: 'rabbitmq_queue_messages_unacked',
    help: 'Messages delivered to consumers but not yet acknowledged',
    type: 'gauge',
    family: 'queue_coarse_metrics',
    value: (q) => q.unackedCount,
  },
  {
    name: 'rabbitmq_queue_messages',
    help: 'Sum of ready and unacknowledged messages - total queue depth',
    type: 'gauge',
    family: 'queue_coarse_metrics',
    value: (q) => q.messageCount + q.unackedCount,
  },
  {
    name: 'rabbitmq_queue_consumers',
    help: 'Consumers on a queue',
    type: 'gauge',
    family: 'queue_consumer_count',
    value: (q) => q.consumerCount,
  },
  {
    name: 'rabbitmq_queue_messages_bytes',
    help: 'Size in bytes of ready and unacknowledged messages',
    type: 'gauge',
    family: 'queue_metrics',
    value: (q, s) => readyBytes(q) + unackedBytes(q, s),
  },
  {
    name: 'rabbitmq_queue_messages_ready_bytes',
    help: 'Size in bytes of ready messages',
    type: 'gauge',
    family: 'queue_metrics',
    value: readyBytes,
  },
  {
    name: 'rabbitmq_queue_messages_unacked_bytes',
    help: 'Size in bytes of all unacknowledged messages',
    type: 'gauge',
    family: 'queue_metrics',
    value: unackedBytes,
  },
  {
    name: 'rabbitmq_queue_messages_paged_out_bytes',
    help: 'Size in bytes of messages paged out to disk',
    type: 'gauge',
    family: 'queue_metrics',
    value: (q) => q.ready.bytes - q.ready.residentBytes,
  },
  {
    name: 'rabbitmq_queue_messages_published_total',
    help: 'Total number of messages published to queues',
    type: 'counter',
    family: 'queue_exchange_metrics',
    value: (q) => q.stats.published,
  },
];

export const CHANNEL_METRICS: readonly ObjectMetric<Channel>[] = [
  {
    name: 'rabbitmq_channel_consumers',
    help: 'Consumers on a channel',
    type: 'gauge',
    family: 'channel_metrics',
    value: (ch) => ch.consumers.size,
  },
  {
    name: 'rabbitmq_channel_messages_unacked',
    help: 'Delivered but not yet acknowledged messages',
    type: 'gauge',
    family: 'channel_metrics',
    value: (ch) => ch.unacked.size,
  },
  {
    name: 'rabbitmq_channel_prefetch',
    help: 'Total limit of unacknowledged messages for all consumers on a channel',
    type: 'gauge',
    family: 'channel_metrics',
    value: (ch) => ch.globalPrefetch,
  },
  {
    name: 'rabbitmq_channel_messages_published_total',
    help: 'Total number of messages published into an exchange on a channel',
    type: 'counter',
    family: 'channel_exchange_metrics',
    value: (ch) => ch.stats.published,
  },
  {
    name: 'rabbitmq_channel_messages_redelivered_total',
    help: 'Total number of messages redelivered to consumers',
    type: 'counter',
    family: 'channel_queue_metrics',
    value: (ch) => ch.stats.redelivered,
  },
  {
    name: 'rabbitmq_channel_messages_acked_total',
    help: 'Total number of messages acknowledged by consumers',
    type: 'counter',
    family: 'channel_queue_metrics',
    value: (ch) => ch.stats.acked,
  },
];

export const CONNECTION_METRICS: readonly ObjectMetric<Connection>[] = [
  {
    name: 'rabbitmq_connection_incoming_bytes_total',
    help: 'Total number of bytes received on a connection',
    type: 'counter',
    family: 'connection_coarse_metrics',
    value: (c) => c.stats.recvOct,
  },
  {
    name: 'rabbitmq_connection_outgoing_bytes_total',
    help: 'Total number of bytes sent on a connection',
    type: 'counter',
    family: 'connection_coarse_metrics',
    value: (c) => c.stats.sendOct,
  },
  {
    name: 'rabbitmq_connection_incoming_packets_total',
    help: 'Total number of packets received on a connection',
    type: 'counter',
    family: 'connection_metrics',
    value: (c) => c.stats.recvCnt,
  },
  {
    name: 'rabbitmq_connection_outgoing_packets_total',
    help: 'Total number of packets sent on a connection',
    type: 'counter',
    family: 'connection_metrics',
    value: (c) => c.stats.sendCnt,
  },
  {
    name: 'rabbitmq_connection_channels',
    help: 'Channels on a connection',
    type: 'gauge',
    family: 'connection_metrics',
    value: (c) => c.channels.size,
  },
];

/** RabbitMQ's labels: a queue by vhost and name; channels and connections both under `channel` (sic). */
export const queueLabels = (q: Queue): Record<string, string> => ({ vhost: q.vhost.name, queue: q.name });
export const channelLabels = (ch: Channel): Record<string, string> => ({
  channel: `${ch.connection.name} (${ch.id})`,
});
export const connectionLabels = (c: Connection): Record<string, string> => ({ channel: c.name });

/** The aggregated channel counters come from the protocol totals instead (see node.ts): these would drop. */
export const LIVE_ONLY_CHANNEL_COUNTERS = new Set([
  'rabbitmq_channel_messages_published_total',
  'rabbitmq_channel_messages_redelivered_total',
  'rabbitmq_channel_messages_acked_total',
]);

export function* queuesOf(broker: Broker, vhosts?: ReadonlySet<string>): Iterable<Queue> {
  for (const v of broker.vhosts.values()) {
    if (vhosts !== undefined && !vhosts.has(v.name)) continue;
    yield* v.queues.values();
  }
}

export function* connectionsOf(broker: Broker, vhosts?: ReadonlySet<string>): Iterable<Connection> {
  for (const c of broker.connections.values()) {
    if (vhosts === undefined || vhosts.has(c.vhost.name)) yield c;
  }
}

export function* channelsOf(broker: Broker, vhosts?: ReadonlySet<string>): Iterable<Channel> {
  for (const c of connectionsOf(broker, vhosts)) yield* c.channels.values();
}
