import { createHash } from 'node:crypto';
import {
  Decimal,
  stableStringify,
  type Binding,
  type Channel,
  type Connection,
  type Consumer,
  type Exchange,
  type FieldTable,
  type FieldValue,
  type MessageProperties,
  type Queue,
  type User,
  type Vhost,
} from '@warren/core';
import type { Item } from './listing';
import type { Rates } from './rates';

/**
 * Warren's objects in RabbitMQ 3.x's JSON shapes, field names and all, so that rabbitmqadmin, monitoring
 * plugins and scripts written for RabbitMQ read them unchanged. Fields Warren has no equivalent for are left
 * out rather than faked (see the README's list).
 */

/** What every shape needs besides the object itself. */
export interface ShapeContext {
  readonly node: string;
  readonly rates: Rates<object>;
}

/** The counters sampled per queue, vhost and broker, in this order (see Rates). */
export const COUNTERS = [
  'publish',
  'deliver_get',
  'ack',
  'redeliver',
  'messages',
  'messages_ready',
  'messages_unacknowledged',
] as const;
const at = (name: (typeof COUNTERS)[number]): number => COUNTERS.indexOf(name);

export type Counters = number[];

export function queueCounters(q: Queue): Counters {
  const s = q.stats;
  return [
    s.published,
    s.delivered,
    s.acked,
    s.redelivered,
    q.messageCount + q.unackedCount,
    q.messageCount,
    q.unackedCount,
  ];
}

/** Adds `b` into `a`, index by index (vhost and broker totals). */
export function addCounters(a: Counters, b: Counters): Counters {
  for (let i = 0; i < b.length; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return a;
}

export const emptyCounters = (): Counters => COUNTERS.map(() => 0);

/** RabbitMQ's message_stats: each counter with its `_details.rate`. */
export function messageStats(key: object, counters: Counters, ctx: ShapeContext): Item {
  const stats: Item = {};
  for (const name of ['publish', 'deliver_get', 'ack', 'redeliver'] as const) {
    stats[name] = counters[at(name)];
    stats[`${name}_details`] = { rate: ctx.rates.rate(key, at(name)) };
  }
  return stats;
}

/** messages, messages_ready, messages_unacknowledged with their `_details`. */
export function messageTotals(key: object, counters: Counters, ctx: ShapeContext): Item {
  const totals: Item = {};
  for (const name of ['messages', 'messages_ready', 'messages_unacknowledged'] as const) {
    totals[name] = counters[at(name)];
    totals[`${name}_details`] = { rate: ctx.rates.rate(key, at(name)) };
  }
  return totals;
}

export function queueShape(q: Queue, ctx: ShapeContext): Item {
  const counters = queueCounters(q);
  return {
    name: q.name,
    vhost: q.vhost.name,
    durable: q.durable,
    auto_delete: q.options.autoDelete,
    exclusive: q.options.exclusive,
    arguments: tableToJson(q.options.arguments),
    node: ctx.node,
    state: 'running',
    type: q.settings.type,
    consumers: q.consumerCount,
    ...messageTotals(q, counters, ctx),
    message_bytes: q.ready.bytes,
    message_bytes_ready: q.ready.bytes,
    // Bodies are shared between queues: the queue's own memory is its ready bytes, an estimate RabbitMQ's
    // `memory` (process memory) is close to for classic queues holding bodies in RAM.
    memory: q.ready.bytes,
    message_stats: messageStats(q, counters, ctx),
    exclusive_consumer_tag: q.consumers.find((c) => c.exclusive)?.tag ?? null,
    policy: null,
    ...(q.consumerCount === 0 ? { idle_since: new Date().toISOString() } : {}),
  };
}

export function exchangeShape(x: Exchange): Item {
  return {
    name: x.name,
    vhost: x.vhost,
    type: x.type,
    durable: x.durable,
    auto_delete: x.options.autoDelete,
    internal: x.options.internal,
    arguments: tableToJson(x.options.arguments),
    user_who_performed_action: 'rmq-internal',
  };
}

/**
 * RabbitMQ's properties_key, the binding's name in URLs: the routing key alone (URL-encoded) when there are
 * no arguments, "~" when both are empty, else the key, "~" and a hash of the arguments.
 */
export function propertiesKey(routingKey: string, args: FieldTable): string {
  const rk = encodeURIComponent(routingKey);
  if (Object.keys(args).length === 0) return rk === '' ? '~' : rk;
  const hash = createHash('sha256').update(stableStringify(args)).digest('base64url').slice(0, 22);
  return `${rk}~${hash}`;
}

export function bindingShape(b: Binding, vhost: string): Item {
  return {
    source: b.source.name,
    vhost,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: tableToJson(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments),
  };
}

/** The default exchange's implicit binding of every queue by its name, which RabbitMQ lists too. */
export function defaultBindingShape(q: Queue): Item {
  return {
    source: '',
    vhost: q.vhost.name,
    destination: q.name,
    destination_type: 'queue',
    routing_key: q.name,
    arguments: {},
    properties_key: propertiesKey(q.name, {}),
  };
}

/** Every binding of a vhost: the default exchange's implicit ones first, then each exchange's. */
export function vhostBindings(v: Vhost): Item[] {
  const out: Item[] = [];
  for (const q of v.queues.values()) out.push(defaultBindingShape(q));
  for (const x of v.exchanges.values()) for (const b of x.bindings) out.push(bindingShape(b, v.name));
  return out;
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = {
  amqp: 'AMQP 0-9-1',
  stomp: 'STOMP',
  'stomp-ws': 'Web STOMP',
};

export function connectionName(c: Connection): string {
  return c.name;
}

export function connectionShape(c: Connection, ctx: ShapeContext): Item {
  const { stats } = c;
  const clientProperties = tableToJson((c.info.clientProperties ?? {}) as FieldTable);
  const given = clientProperties['connection_name'];
  return {
    name: connectionName(c),
    // RabbitMQ's name for the connection_name a client gave (pika, amqplib, the Java client).
    ...(typeof given === 'string' && given !== '' ? { user_provided_name: given } : {}),
    node: ctx.node,
    vhost: c.vhost.name,
    user: c.user.name,
    protocol: PROTOCOL_NAMES[c.info.protocol] ?? c.info.protocol,
    type: 'network',
    state: 'running',
    peer_host: c.info.remoteAddress,
    peer_port: c.info.remotePort,
    channels: c.channels.size,
    connected_at: c.connectedAt,
    client_properties: clientProperties,
    recv_oct: stats.recvOct,
    send_oct: stats.sendOct,
    recv_cnt: stats.recvCnt,
    send_cnt: stats.sendCnt,
  };
}

function connectionDetails(c: Connection): Item {
  return { name: connectionName(c), peer_host: c.info.remoteAddress, peer_port: c.info.remotePort };
}

export function channelName(ch: Channel): string {
  return `${connectionName(ch.connection)} (${ch.id})`;
}

export function channelShape(ch: Channel, ctx: ShapeContext): Item {
  const { stats } = ch;
  return {
    name: channelName(ch),
    node: ctx.node,
    number: ch.id,
    user: ch.connection.user.name,
    vhost: ch.vhost.name,
    connection_details: connectionDetails(ch.connection),
    consumer_count: ch.consumers.size,
    messages_unacknowledged: ch.unacked.size,
    prefetch_count: ch.consumerPrefetch,
    global_prefetch_count: ch.globalPrefetch,
    confirm: ch.confirmMode,
    transactional: ch.transactional,
    state: ch.flowActive ? 'running' : 'flow',
    ...(stats === undefined
      ? {}
      : {
          message_stats: {
            publish: stats.published,
            deliver_get: stats.delivered,
            ack: stats.acked,
            redeliver: stats.redelivered,
          },
        }),
  };
}

export function consumerShape(c: Consumer): Item {
  return {
    consumer_tag: c.tag,
    queue: { name: c.queue.name, vhost: c.queue.vhost.name },
    channel_details: {
      name: channelName(c.channel),
      number: c.channel.id,
      user: c.channel.connection.user.name,
      connection_name: connectionName(c.channel.connection),
      peer_host: c.channel.connection.info.remoteAddress,
      peer_port: c.channel.connection.info.remotePort,
    },
    ack_required: !c.noAck,
    exclusive: c.exclusive,
    prefetch_count: c.prefetch,
    arguments: tableToJson(c.args),
    active: true,
    activity_status: 'up',
  };
}

export const DEFAULT_HASHING = 'rabbit_password_hashing_sha256';

export function userShape(u: User): Item {
  return {
    name: u.name,
    password_hash: u.passwordHash,
    hashing_algorithm: u.hashingAlgorithm,
    tags: u.tags,
    limits: {},
  };
}

/** A field table as JSON: byte strings as text, 64-bit integers and decimals as numbers, timestamps in seconds. */
export function tableToJson(table: FieldTable): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(table)) out[k] = valueToJson(v);
  return out;
}

function valueToJson(v: FieldValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (v instanceof Decimal) return v.toNumber();
  if (Array.isArray(v)) return v.map(valueToJson);
  if (v !== null && typeof v === 'object') return tableToJson(v);
  return v;
}

/** Message properties under RabbitMQ's JSON names (those of AMQP's basic properties). */
const PROPERTY_NAMES = [
  ['contentType', 'content_type'],
  ['contentEncoding', 'content_encoding'],
  ['headers', 'headers'],
  ['deliveryMode', 'delivery_mode'],
  ['priority', 'priority'],
  ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'],
  ['expiration', 'expiration'],
  ['messageId', 'message_id'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['userId', 'user_id'],
  ['appId', 'app_id'],
  ['clusterId', 'cluster_id'],
] as const satisfies readonly (readonly [keyof MessageProperties, string])[];

export function propertiesToJson(p: MessageProperties): Item {
  const out: Item = {};
  for (const [ours, theirs] of PROPERTY_NAMES) {
    const v = p[ours];
    if (v === undefined) continue;
    out[theirs] = ours === 'headers' ? tableToJson(v as FieldTable) : v;
  }
  return out;
}

/** The reverse, for POST .../publish; `invalid` names a property of the wrong type. */
export function propertiesFromJson(json: Item, invalid: (name: string) => Error): MessageProperties {
  const p: Record<string, unknown> = {};
  for (const [ours, theirs] of PROPERTY_NAMES) {
    const v = json[theirs];
    if (v === undefined || v === null) continue;
    const numeric = ours === 'deliveryMode' || ours === 'priority' || ours === 'timestamp';
    if (ours === 'headers') {
      if (typeof v !== 'object' || Array.isArray(v)) throw invalid(theirs);
      p[ours] = v as FieldTable;
    } else if (numeric) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(theirs);
      p[ours] = v;
    } else {
      if (typeof v !== 'string') throw invalid(theirs);
      p[ours] = v;
    }
  }
  return p as MessageProperties;
}
