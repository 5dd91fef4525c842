import { createHash, randomBytes } from 'node:crypto';
import type { Channel, ExchangeOptions, FieldTable, QueueOptions } from '@warren/core';
import type { StompHeaders } from '../codec/frame';
import type { Destination } from '../mapping/destination';
import { booleanHeader } from '../mapping/headers';
import { StompFailure } from './stomp-failure';

/** Where a SUBSCRIBE consumes from, once its queue exists and is bound. */
export interface SubscriptionQueue {
  readonly queue: string;
  /** The declares and binds to make first, in order (see runTopology). */
  readonly steps: readonly TopologyStep[];
  /** The queue serves this subscription alone (selector misses are dropped, not requeued). */
  readonly privateQueue: boolean;
  /** Set for a durable topic subscription: UNSUBSCRIBE with durable:true deletes it. */
  readonly durableQueue: string | undefined;
}

/** Queue arguments RabbitMQ takes from SUBSCRIBE headers, with the type each must have. */
const INTEGER_ARGS: ReadonlySet<string> = new Set([
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-delivery-limit',
  'x-stream-max-segment-size-bytes',
  'x-quorum-initial-group-size',
  'x-initial-cluster-size',
]);
const BOOLEAN_ARGS: ReadonlySet<string> = new Set(['x-single-active-consumer']);
/** x-* headers that are not queue arguments (x-stream-offset is the consumer's). */
const NOT_ARGS: ReadonlySet<string> = new Set(['x-queue-name', 'x-stream-offset']);

/** x-* SUBSCRIBE headers as queue arguments: integers and booleans typed, so the core can check them. */
export function queueArguments(headers: StompHeaders): FieldTable {
  const args: FieldTable = {};
  for (const [name, value] of headers) {
    if (!name.startsWith('x-') || NOT_ARGS.has(name)) continue;
    const flag = BOOLEAN_ARGS.has(name) ? booleanHeader(headers, name) : undefined;
    if (INTEGER_ARGS.has(name) && /^-?[0-9]{1,15}$/.test(value)) args[name] = Number(value);
    else if (flag !== undefined) args[name] = flag;
    else args[name] = value;
  }
  return args;
}

/** One topology change a SUBSCRIBE or SEND implies. */
export type TopologyStep =
  | { op: 'declare-exchange'; name: string; type: string; options: ExchangeOptions; passive: boolean }
  | { op: 'declare-queue'; name: string; options: QueueOptions }
  | { op: 'bind'; queue: string; exchange: string; key: string };

/**
 * Makes `steps` in order through the channel's claims: applied now, nothing returned, on a single node; with a
 * topology authority, a promise that settles once the last has been claimed and applied (each step's local
 * checks run when its turn comes, after the step before it exists).
 */
export function runTopology(
  channel: Channel,
  steps: readonly TopologyStep[],
  from = 0,
): Promise<void> | undefined {
  for (let i = from; i < steps.length; i++) {
    const pending = claimStep(channel, steps[i] as TopologyStep);
    if (pending !== undefined) return pending.then(() => runTopology(channel, steps, i + 1));
  }
  return undefined;
}

function claimStep(channel: Channel, step: TopologyStep): Promise<unknown> | undefined {
  switch (step.op) {
    case 'declare-exchange':
      return channel.claims.exchangeDeclare(step.name, step.type, step.options, step.passive);
    case 'declare-queue': {
      const r = channel.claims.queueDeclare(step.name, step.options);
      return r instanceof Promise ? r : undefined;
    }
    case 'bind':
      return channel.claims.queueBind(step.queue, step.exchange, step.key);
  }
}

/**
 * What a SUBSCRIBE needs declared and bound (RabbitMQ's rules), as steps for runTopology:
 * - /queue/x and a bare name: a durable shared queue x, with the x-* headers as its arguments;
 * - /amq/queue/x, /reply-queue/x: the existing queue, never declared (NOT_FOUND when absent);
 * - /topic/k, /exchange/e/k: a queue of the subscription's own, bound with k. Durable (durable:true or
 *   persistent:true, and auto-delete not true) needs an `id`, and survives the connection under a name derived
 *   from destination and id, so the next SUBSCRIBE with the same id finds its backlog; otherwise exclusive and
 *   auto-delete. x-queue-name names the queue either way.
 * - /temp-queue/x: the session's private reply queue (made at once, locally: not claimed).
 * The exchange of /exchange and /topic must exist: that check runs now, as do the header checks.
 */
export function planSubscription(
  channel: Channel,
  dest: Destination,
  headers: StompHeaders,
  id: string | undefined,
  destinationText: string,
  tempQueue: (name: string) => string,
): SubscriptionQueue {
  switch (dest.kind) {
    case 'queue': {
      const options = {
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: queueArguments(headers),
      };
      return {
        queue: dest.name,
        steps: [{ op: 'declare-queue', name: dest.name, options }],
        privateQueue: false,
        durableQueue: undefined,
      };
    }
    case 'amq-queue':
    case 'reply-queue':
      return { queue: dest.name, steps: [], privateQueue: false, durableQueue: undefined };
    case 'temp-queue':
      return { queue: tempQueue(dest.name), steps: [], privateQueue: true, durableQueue: undefined };
    case 'topic':
    case 'exchange': {
      const exchange = dest.kind === 'topic' ? 'amq.topic' : dest.exchange;
      // The exchange must exist: /exchange never declares one (NOT_FOUND, as in RabbitMQ).
      channel.vhost.checkDeclareExchange(
        exchange,
        'topic',
        { durable: true, autoDelete: false, internal: false, arguments: {} },
        true,
      );
      const durable =
        (booleanHeader(headers, 'durable') === true || booleanHeader(headers, 'persistent') === true) &&
        booleanHeader(headers, 'auto-delete') !== true;
      if (durable && id === undefined) {
        throw new StompFailure('Missing Header', "Header 'id' is required for durable subscriptions", false);
      }
      const named = headers.get('x-queue-name');
      const queue =
        named ??
        (durable
          ? `stomp-subscription-${createHash('md5')
              .update(`${destinationText}\u0000${id ?? ''}`)
              .digest('base64url')}`
          : `stomp-subscription-${randomBytes(16).toString('base64url')}`);
      const options = {
        durable,
        exclusive: !durable,
        autoDelete: !durable,
        arguments: queueArguments(headers),
      };
      return {
        queue,
        steps: [
          { op: 'declare-queue', name: queue, options },
          { op: 'bind', queue, exchange, key: dest.key },
        ],
        privateQueue: true,
        durableQueue: durable ? queue : undefined,
      };
    }
  }
}
