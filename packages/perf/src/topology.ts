/**
 * The queues and exchange of a run, declared by a setup connection before anyone consumes or publishes, and
 * deleted by it afterwards (unless --keep). Same shapes as amqp-load:
 *   direct: default exchange, producer p -> queue p mod Q (routing key = queue name)
 *   fanout: one fanout exchange bound to Q queues; every message is copied to all of them
 *   topic:  one topic exchange, binding i = `t.<i>.*` -> queue i mod Q; message n goes with `t.<n mod B>.m`
 *           (exactly one binding matches, so each message lands in exactly one queue)
 */
import {
  EXCHANGE_DECLARE,
  EXCHANGE_DELETE,
  QUEUE_BIND,
  QUEUE_DECLARE,
  QUEUE_DELETE,
  QUEUE_PURGE,
  type Method,
} from '@warren/amqp';
import type { AmqpClient } from './amqp-client';
import type { PerfOptions } from './options';

const PIPELINED_PER_WRITE = 1024;

export interface Topology {
  /** '' = the default exchange. */
  exchange: string;
  queues: string[];
  /** How many queues each message is copied into. */
  copies: number;
  routingKeys(producer: number): string[];
  queueFor(consumer: number): string;
}

export function planTopology(o: PerfOptions, runId: string): Topology {
  const base = o.queue ?? `perf-${runId}`;
  const queues = o.queues === 1 ? [base] : Array.from({ length: o.queues }, (_, i) => `${base}-${i}`);
  const queueFor = (c: number): string => queues[c % queues.length] as string;
  if (o.fanout > 0) {
    return { exchange: `${base}-fanout`, queues, copies: queues.length, routingKeys: () => [''], queueFor };
  }
  if (o.topic > 0) {
    const keys = Array.from({ length: o.topic }, (_, i) => `t.${i}.m`);
    return { exchange: `${base}-topic`, queues, copies: 1, routingKeys: () => keys, queueFor };
  }
  return { exchange: '', queues, copies: 1, routingKeys: (p) => [queueFor(p)], queueFor };
}

export async function declareTopology(c: AmqpClient, o: PerfOptions, t: Topology): Promise<void> {
  const durable = o.persistent;
  for (const queue of t.queues) {
    await c.rpc({
      id: QUEUE_DECLARE,
      ticket: 0,
      queue,
      passive: false,
      durable,
      exclusive: false,
      autoDelete: false,
      noWait: false,
      arguments: {},
    });
    // A named queue may hold messages from an earlier run; they would count as deliveries of this one.
    if (o.queue !== undefined) await c.rpc({ id: QUEUE_PURGE, ticket: 0, queue, noWait: false });
  }
  if (t.exchange === '') return;
  const type = o.fanout > 0 ? 'fanout' : 'topic';
  await c.rpc({
    id: EXCHANGE_DECLARE,
    ticket: 0,
    exchange: t.exchange,
    type,
    passive: false,
    durable,
    autoDelete: false,
    internal: false,
    noWait: false,
    arguments: {},
  });
  // Bindings are pipelined: every one but the last goes with no-wait, written ~1,000 to a socket write, and the
  // last one's bind-ok (the broker handles a channel's methods in order) says they are all in. A million
  // bindings then cost one round trip instead of a million (about a minute on loopback). A refused binding
  // still closes the channel, which fails the run.
  const bindings = o.fanout > 0 ? t.queues.length : o.topic;
  const bind = (i: number, noWait: boolean): Method => ({
    id: QUEUE_BIND,
    ticket: 0,
    queue: t.queues[i % t.queues.length] as string,
    exchange: t.exchange,
    routingKey: o.fanout > 0 ? '' : `t.${i}.*`,
    noWait,
    arguments: {},
  });
  const frames: Buffer[] = [];
  for (let i = 0; i < bindings - 1; i++) {
    frames.push(c.writer.method(1, bind(i, true)));
    if (frames.length === PIPELINED_PER_WRITE || i === bindings - 2) {
      c.write(Buffer.concat(frames));
      frames.length = 0;
    }
  }
  if (bindings > 0) await c.rpc(bind(bindings - 1, false));
}

export async function deleteTopology(c: AmqpClient, t: Topology): Promise<void> {
  for (const queue of t.queues) {
    await c.rpc({ id: QUEUE_DELETE, ticket: 0, queue, ifUnused: false, ifEmpty: false, noWait: false });
  }
  if (t.exchange !== '') {
    await c.rpc({ id: EXCHANGE_DELETE, ticket: 0, exchange: t.exchange, ifUnused: false, noWait: false });
  }
}
