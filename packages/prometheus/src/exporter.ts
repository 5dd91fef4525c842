import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { MESSAGE_SIZE_BUCKETS, ProtocolCounters, type Broker, type FixedHistogram } from '@warren/core';
import { Registry, Summary } from 'prom-client';
import {
  CHANNEL_METRICS,
  CONNECTION_METRICS,
  LIVE_ONLY_CHANNEL_COUNTERS,
  QUEUE_METRICS,
  channelLabels,
  channelsOf,
  connectionLabels,
  connectionsOf,
  queueLabels,
  queuesOf,
  startScrape,
  type ObjectMetric,
} from './objects';
import { counter, gauge, histogram, objectFamily, type Labels, type Sample } from './families';
import { fdCounts } from './process';

/** The journal's histograms, as packages/journal's Journal.histograms() gives them (structurally). */
export interface JournalHistograms {
  syncSeconds: FixedHistogram;
  groupSize: FixedHistogram;
}

export interface ExporterOptions {
  broker: Broker;
  /** rabbitmq_node: warren@<hostname>, as the management API names the node. */
  node: string;
  /** rabbitmq_cluster: the cluster name (the node's, as RabbitMQ's default). */
  cluster: string;
  /** rabbitmq_cluster_permanent_id: stable across restarts (see clusterId.ts). */
  clusterId: string;
  productVersion: string;
  /** Where free disk space is measured, and the disk_free_limit it is held against. */
  dataDir: string;
  diskFreeLimit: number;
  journal?: () => JournalHistograms;
}

/** What one request asks for: the three endpoints of rabbitmq_prometheus. */
export type View =
  | { kind: 'aggregated' }
  | { kind: 'per-object' }
  /** /metrics/detailed: only the families asked for, per object, optionally in some vhosts only. */
  | { kind: 'detailed'; families: ReadonlySet<string>; vhosts: ReadonlySet<string> | undefined };

/** RabbitMQ's protocol label values; Web STOMP runs RabbitMQ's STOMP adapter and counts as stomp. */
const PROTOCOL_LABELS: Readonly<Record<string, string>> = {
  amqp: 'amqp091',
  stomp: 'stomp',
  'stomp-ws': 'stomp',
};

const CLASSIC = 'rabbit_classic_queue';
const QUORUM = 'rabbit_quorum_queue';

/**
 * Renders the Prometheus text format for a view. Everything is read from the broker now: the data path only
 * increments integers (see @warren/core's metrics.ts), and a fresh registry per scrape means deleted queues
 * and closed connections simply stop appearing.
 */
export class Exporter {
  private readonly loopDelay: IntervalHistogram;

  constructor(private readonly o: ExporterOptions) {
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
  }

  close(): void {
    this.loopDelay.disable();
  }

  async render(view: View): Promise<{ contentType: string; body: string }> {
    const registry = new Registry();
    this.identity(registry);
    if (view.kind === 'detailed') {
      this.detailed(registry, view.families, view.vhosts);
    } else {
      await this.node(registry);
      this.objects(registry, view.kind === 'per-object');
    }
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  private identity(registry: Registry): void {
    const { node, cluster, clusterId, productVersion } = this.o;
    gauge(registry, 'rabbitmq_identity_info', 'RabbitMQ node & cluster identity info', [
      [{ rabbitmq_node: node, rabbitmq_cluster: cluster, rabbitmq_cluster_permanent_id: clusterId }, 1],
    ]);
    gauge(registry, 'rabbitmq_build_info', 'RabbitMQ & Erlang/OTP version info', [
      [
        {
          rabbitmq_version: productVersion,
          prometheus_plugin_version: productVersion,
          node_version: process.version,
        },
        1,
      ],
    ]);
  }

  /** Node-wide figures: totals, process resources, the protocol counters and Warren's own extras. */
  private async node(registry: Registry): Promise<void> {
    const { broker } = this.o;
    const protocols = byRabbitLabel(broker);
    let channels = 0;
    let consumers = 0;
    for (const ch of channelsOf(broker)) {
      channels++;
      consumers += ch.consumers.size;
    }
    let queues = 0;
    for (const v of broker.vhosts.values()) queues += v.queues.size;
    const { churn } = broker;
    gauge(registry, 'rabbitmq_connections', 'Connections currently open', [[{}, broker.connections.size]]);
    gauge(registry, 'rabbitmq_channels', 'Channels currently open', [[{}, channels]]);
    gauge(registry, 'rabbitmq_consumers', 'Consumers currently connected', [[{}, consumers]]);
    gauge(registry, 'rabbitmq_queues', 'Queues available', [[{}, queues]]);
    counter(registry, 'rabbitmq_connections_opened_total', 'Total number of connections opened', [
      [{}, churn.connectionsOpened],
    ]);
    counter(
      registry,
      'rabbitmq_connections_closed_total',
      'Total number of connections closed or terminated',
      [[{}, churn.connectionsClosed]],
    );
    counter(registry, 'rabbitmq_channels_opened_total', 'Total number of channels opened', [
      [{}, churn.channelsOpened],
    ]);
    counter(registry, 'rabbitmq_channels_closed_total', 'Total number of channels closed', [
      [{}, churn.channelsClosed],
    ]);
    this.globalCounters(registry, protocols);
    this.deadLetters(registry);
    await this.resources(registry);
    this.extras(registry);
  }

  private globalCounters(registry: Registry, protocols: Map<string, ProtocolCounters>): void {
    const each = (read: (p: ProtocolCounters) => number, queueType: boolean): Sample[] =>
      [...protocols].map(([protocol, p]): Sample => [
        queueType ? { protocol, queue_type: CLASSIC } : { protocol },
        read(p),
      ]);
    const totals: [string, string, (p: ProtocolCounters) => number, boolean][] = [
      ['received', 'Total number of messages received from publishers', (p) => p.received, false],
      [
        'received_confirm',
        'Total number of messages received from publishers expecting confirmations',
        (p) => p.receivedConfirm,
        false,
      ],
      ['routed', 'Total number of messages routed to queues or streams', (p) => p.routed, false],
      [
        'unroutable_dropped',
        'Total number of messages published as non-mandatory into an exchange and dropped as unroutable',
        (p) => p.unroutableDropped,
        false,
      ],
      [
        'unroutable_returned',
        'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable',
        (p) => p.unroutableReturned,
        false,
      ],
      ['confirmed', 'Total number of messages confirmed to publishers', (p) => p.confirmed, false],
      ['delivered', 'Total number of messages delivered to consumers', delivered, true],
      [
        'delivered_consume_auto_ack',
        'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment',
        (p) => p.deliveredConsumeAutoAck,
        true,
      ],
      [
        'delivered_consume_manual_ack',
        'Total number of messages delivered to consumers using basic.consume with manual acknowledgment',
        (p) => p.deliveredConsumeManualAck,
        true,
      ],
      [
        'delivered_get_auto_ack',
        'Total number of messages delivered to consumers using basic.get with automatic acknowledgment',
        (p) => p.deliveredGetAutoAck,
        true,
      ],
      [
        'delivered_get_manual_ack',
        'Total number of messages delivered to consumers using basic.get with manual acknowledgment',
        (p) => p.deliveredGetManualAck,
        true,
      ],
      ['redelivered', 'Total number of messages redelivered to consumers', (p) => p.redelivered, true],
      ['acknowledged', 'Total number of messages acknowledged by consumers', (p) => p.acknowledged, true],
      ['get_empty', 'Total number of times basic.get operations fetched no message', (p) => p.getEmpty, true],
    ];
    for (const [name, help, read, queueType] of totals) {
      counter(registry, `rabbitmq_global_messages_${name}_total`, help, each(read, queueType));
    }
    const { broker } = this.o;
    const publishers = new Map<string, number>();
    const consumers = new Map<string, number>();
    for (const ch of channelsOf(broker)) {
      const label = rabbitLabel(ch.connection.info.protocol);
      if (ch.stats.published > 0) publishers.set(label, (publishers.get(label) ?? 0) + 1);
      consumers.set(label, (consumers.get(label) ?? 0) + ch.consumers.size);
    }
    const perProtocol = (m: Map<string, number>): Sample[] =>
      [...protocols.keys()].map((protocol) => [{ protocol }, m.get(protocol) ?? 0]);
    gauge(registry, 'rabbitmq_global_publishers', 'Current number of publishers', perProtocol(publishers));
    gauge(registry, 'rabbitmq_global_consumers', 'Current number of consumers', perProtocol(consumers));
    const sizes = [...protocols].map(([protocol, p]): [Labels, FixedHistogram] => [
      { protocol },
      p.messageSizes,
    ]);
    histogram(
      registry,
      'rabbitmq_message_size_bytes',
      'Size of messages received from publishers',
      MESSAGE_SIZE_BUCKETS,
      sizes,
    );
  }

  private deadLetters(registry: Registry): void {
    const { atMostOnce, disabled } = this.o.broker.deadLettered;
    const reasons: [string, string, 'expired' | 'maxlen' | 'rejected'][] = [
      ['expired', 'Total number of messages dead-lettered due to message TTL exceeded', 'expired'],
      [
        'maxlen',
        'Total number of messages dead-lettered due to overflow drop-head or reject-publish-dlx',
        'maxlen',
      ],
      ['rejected', 'Total number of messages dead-lettered due to basic.reject or basic.nack', 'rejected'],
    ];
    for (const [name, help, reason] of reasons) {
      counter(registry, `rabbitmq_global_messages_dead_lettered_${name}_total`, help, [
        [{ queue_type: CLASSIC, dead_letter_strategy: 'at_most_once' }, atMostOnce[reason]],
        [{ queue_type: CLASSIC, dead_letter_strategy: 'disabled' }, disabled[reason]],
      ]);
    }
    // Only quorum queues have a delivery limit.
    counter(
      registry,
      'rabbitmq_global_messages_dead_lettered_delivery_limit_total',
      'Total number of messages dead-lettered due to delivery-limit exceeded',
      [
        [{ queue_type: QUORUM, dead_letter_strategy: 'at_most_once' }, atMostOnce.delivery_limit],
        [{ queue_type: QUORUM, dead_letter_strategy: 'disabled' }, disabled.delivery_limit],
      ],
    );
  }

  /** Memory, disk, file descriptors, uptime and the alarms, as rabbitmq_prometheus names them. */
  private async resources(registry: Registry): Promise<void> {
    const { broker, dataDir, diskFreeLimit } = this.o;
    const one = (value: number): Sample[] => [[{}, value]];
    gauge(
      registry,
      'rabbitmq_process_resident_memory_bytes',
      'Memory used in bytes',
      one(process.memoryUsage.rss()),
    );
    gauge(
      registry,
      'rabbitmq_resident_memory_limit_bytes',
      'Memory high watermark in bytes',
      one(broker.memory.vmLimit),
    );
    const disk = await statfs(dataDir).catch(() => undefined);
    if (disk !== undefined) {
      gauge(
        registry,
        'rabbitmq_disk_space_available_bytes',
        'Disk space available in bytes',
        one(disk.bavail * disk.bsize),
      );
    }
    gauge(
      registry,
      'rabbitmq_disk_space_available_limit_bytes',
      'Free disk space low watermark in bytes',
      one(diskFreeLimit),
    );
    const fds = await fdCounts();
    if (fds !== undefined) {
      gauge(registry, 'rabbitmq_process_open_fds', 'Open file descriptors', one(fds.open));
      gauge(registry, 'rabbitmq_process_max_fds', 'Open file descriptors limit', one(fds.max));
    }
    // The dashboards' uptime panel reads the Erlang VM's; Warren's process is the VM here.
    gauge(registry, 'rabbitmq_erlang_uptime_seconds', 'Node uptime', one(process.uptime()));
    gauge(
      registry,
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      one(Math.round(Date.now() / 1000 - process.uptime())),
    );
    const alarm = (raised: boolean): Sample[] => one(raised ? 1 : 0);
    gauge(
      registry,
      'rabbitmq_alarms_memory_used_watermark',
      'is 1 if VM memory watermark alarm is in effect',
      alarm(broker.alarms.isRaised('memory')),
    );
    gauge(
      registry,
      'rabbitmq_alarms_free_disk_space_watermark',
      'is 1 if free disk space watermark alarm is in effect',
      alarm(broker.alarms.isRaised('disk')),
    );
  }

  /** Warren's own figures, under warren_: the journal, paging and the event loop. */
  private extras(registry: Registry): void {
    const journal = this.o.journal?.();
    if (journal !== undefined) {
      histogram(
        registry,
        'warren_journal_fsync_seconds',
        'Time the journal spent in each fdatasync of a group commit',
        journal.syncSeconds.bounds,
        [[{}, journal.syncSeconds]],
      );
      histogram(
        registry,
        'warren_journal_group_commit_batches',
        'Store batches made durable by each journal group commit (write + fdatasync)',
        journal.groupSize.bounds,
        [[{}, journal.groupSize]],
      );
    }
    let paged = 0;
    for (const q of queuesOf(this.o.broker)) paged += q.ready.bytes - q.ready.residentBytes;
    gauge(
      registry,
      'warren_paged_out_bytes',
      'Body bytes of ready messages held on disk only, across all queues',
      [[{}, paged]],
    );
    const d = this.loopDelay;
    const name = 'warren_event_loop_delay_seconds';
    const loop = new Summary({
      name,
      help: 'Event-loop delay since the endpoint started (node:perf_hooks monitorEventLoopDelay)',
      registers: [registry],
    });
    // The quantiles come from Node's own HDR histogram, not from observe() calls.
    const get = loop.get.bind(loop);
    loop.get = async () => ({
      ...(await get()),
      values: [
        ...[0.5, 0.9, 0.99].map((q) => ({ labels: { quantile: q }, value: nanos(d.percentile(q * 100)) })),
        { metricName: `${name}_sum`, labels: {}, value: nanos(d.mean * d.count) },
        { metricName: `${name}_count`, labels: {}, value: d.count },
      ],
    });
  }

  /** Queues, channels and connections: summed in /metrics, one sample each in /metrics/per-object. */
  private objects(registry: Registry, perObject: boolean): void {
    const { broker } = this.o;
    const scrape = startScrape(broker);
    objectFamily(registry, QUEUE_METRICS, queuesOf(broker), queueLabels, scrape, perObject);
    const channels = perObject
      ? CHANNEL_METRICS
      : CHANNEL_METRICS.filter((m) => !LIVE_ONLY_CHANNEL_COUNTERS.has(m.name));
    objectFamily(registry, channels, channelsOf(broker), channelLabels, scrape, perObject);
    if (!perObject) channelTotals(registry, byRabbitLabel(broker));
    objectFamily(registry, CONNECTION_METRICS, connectionsOf(broker), connectionLabels, scrape, perObject);
  }

  /** /metrics/detailed: the families asked for, per object, under rabbitmq_detailed_. */
  private detailed(
    registry: Registry,
    families: ReadonlySet<string>,
    vhosts: ReadonlySet<string> | undefined,
  ): void {
    const { broker } = this.o;
    const scrape = startScrape(broker);
    const pick = <T>(metrics: readonly ObjectMetric<T>[]): ObjectMetric<T>[] =>
      metrics
        .filter((m) => families.has(m.family))
        .map((m) => ({ ...m, name: m.name.replace(/^rabbitmq_/, 'rabbitmq_detailed_') }));
    objectFamily(registry, pick(QUEUE_METRICS), queuesOf(broker, vhosts), queueLabels, scrape, true);
    objectFamily(registry, pick(CHANNEL_METRICS), channelsOf(broker, vhosts), channelLabels, scrape, true);
    objectFamily(
      registry,
      pick(CONNECTION_METRICS),
      connectionsOf(broker, vhosts),
      connectionLabels,
      scrape,
      true,
    );
    if (families.has('connection_churn_metrics')) {
      const { churn } = broker;
      const churnTotals: [string, string, number][] = [
        ['connections_opened', 'Total number of connections opened', churn.connectionsOpened],
        ['connections_closed', 'Total number of connections closed or terminated', churn.connectionsClosed],
        ['channels_opened', 'Total number of channels opened', churn.channelsOpened],
        ['channels_closed', 'Total number of channels closed', churn.channelsClosed],
      ];
      for (const [name, help, value] of churnTotals) {
        counter(registry, `rabbitmq_detailed_${name}_total`, help, [[{}, value]]);
      }
    }
  }
}

/**
 * The aggregated channel counters of RabbitMQ's dashboards, from the protocol totals: a sum over the live
 * channels would fall whenever a channel closes, and rate() would read that as a counter reset.
 */
function channelTotals(registry: Registry, protocols: Map<string, ProtocolCounters>): void {
  const sum = (read: (p: ProtocolCounters) => number): Sample[] => [
    [{}, [...protocols.values()].reduce((n, p) => n + read(p), 0)],
  ];
  const totals: [string, string, (p: ProtocolCounters) => number][] = [
    [
      'messages_published',
      'Total number of messages published into an exchange on a channel',
      (p) => p.received,
    ],
    [
      'messages_confirmed',
      'Total number of messages published into an exchange and confirmed on the channel',
      (p) => p.confirmed,
    ],
    [
      'messages_unroutable_returned',
      'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable',
      (p) => p.unroutableReturned,
    ],
    [
      'messages_unroutable_dropped',
      'Total number of messages published as non-mandatory into an exchange and dropped as unroutable',
      (p) => p.unroutableDropped,
    ],
    [
      'get_ack',
      'Total number of messages fetched with basic.get in manual acknowledgement mode',
      (p) => p.deliveredGetManualAck,
    ],
    [
      'get',
      'Total number of messages fetched with basic.get in automatic acknowledgement mode',
      (p) => p.deliveredGetAutoAck,
    ],
    [
      'messages_delivered_ack',
      'Total number of messages delivered to consumers in manual acknowledgement mode',
      (p) => p.deliveredConsumeManualAck,
    ],
    [
      'messages_delivered',
      'Total number of messages delivered to consumers in automatic acknowledgement mode',
      (p) => p.deliveredConsumeAutoAck,
    ],
    ['messages_redelivered', 'Total number of messages redelivered to consumers', (p) => p.redelivered],
    ['messages_acked', 'Total number of messages acknowledged by consumers', (p) => p.acknowledged],
    ['get_empty', 'Total number of times basic.get operations fetched no message', (p) => p.getEmpty],
  ];
  for (const [name, help, read] of totals)
    counter(registry, `rabbitmq_channel_${name}_total`, help, sum(read));
}

function rabbitLabel(protocol: string): string {
  return PROTOCOL_LABELS[protocol] ?? protocol;
}

/** The broker's per-protocol counters merged under RabbitMQ's labels; amqp091 is always there, as in RabbitMQ. */
function byRabbitLabel(broker: Broker): Map<string, ProtocolCounters> {
  const merged = new Map<string, ProtocolCounters>([['amqp091', new ProtocolCounters()]]);
  for (const [protocol, counters] of broker.protocols) {
    const label = rabbitLabel(protocol);
    const into = merged.get(label) ?? new ProtocolCounters();
    merged.set(label, into);
    addCounters(into, counters);
  }
  return merged;
}

function addCounters(into: ProtocolCounters, from: ProtocolCounters): void {
  into.received += from.received;
  into.receivedConfirm += from.receivedConfirm;
  into.routed += from.routed;
  into.unroutableDropped += from.unroutableDropped;
  into.unroutableReturned += from.unroutableReturned;
  into.confirmed += from.confirmed;
  into.deliveredConsumeAutoAck += from.deliveredConsumeAutoAck;
  into.deliveredConsumeManualAck += from.deliveredConsumeManualAck;
  into.deliveredGetAutoAck += from.deliveredGetAutoAck;
  into.deliveredGetManualAck += from.deliveredGetManualAck;
  into.redelivered += from.redelivered;
  into.acknowledged += from.acknowledged;
  into.getEmpty += from.getEmpty;
  const sizes = into.messageSizes;
  from.messageSizes.counts.forEach((n, i) => (sizes.counts[i] = (sizes.counts[i] ?? 0) + n));
  sizes.sum += from.messageSizes.sum;
  sizes.count += from.messageSizes.count;
}

function delivered(p: ProtocolCounters): number {
  return (
    p.deliveredConsumeAutoAck + p.deliveredConsumeManualAck + p.deliveredGetAutoAck + p.deliveredGetManualAck
  );
}

function nanos(ns: number): number {
  return Number.isFinite(ns) ? ns / 1e9 : 0;
}
