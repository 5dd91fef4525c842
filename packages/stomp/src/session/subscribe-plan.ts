import { createHash, randomBytes } from 'node:crypto';
import type { Channel, FieldTable } from '@warren/core';
import type { StompHeaders } from '../codec/frame';
import type { Destination } from '../mapping/destination';
import { booleanHeader } from '../mapping/headers';
import { StompFailure } from './stomp-failure';

/** Where a SUBSCRIBE consumes from, once its queue exists and is bound. */
export interface SubscriptionQueue {
  readonly queue: string;
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

/**
 * Declares and binds what a SUBSCRIBE needs (RabbitMQ's rules):
 * - /queue/x and a bare name: a durable shared queue x, with the x-* headers as its arguments;
 * - /amq/queue/x, /reply-queue/x: the existing queue, never declared (NOT_FOUND when absent);
 * - /topic/k, /exchange/e/k: a queue of the subscription's own, bound with k. Durable (durable:true or
 *   persistent:true, and auto-delete not true) needs an `id`, and survives the connection under a name derived
 *   from destination and id, so the next SUBSCRIBE with the same id finds its backlog; otherwise exclusive and
 *   auto-delete. x-queue-name names the queue either way.
 * - /temp-queue/x: the session's private reply queue.
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
      channel.queueDeclare(dest.name, {
        durable: true,
        exclusive: false,
        autoDelete: false,
        arguments: queueArguments(headers),
      });
      return { queue: dest.name, privateQueue: false, durableQueue: undefined };
    }
    case 'amq-queue':
    case 'reply-queue':
      return { queue: dest.name, privateQueue: false, durableQueue: undefined };
    case 'temp-queue':
      return { queue: tempQueue(dest.name), privateQueue: true, durableQueue: undefined };
    case 'topic':
    case 'exchange': {
      const exchange = dest.kind === 'topic' ? 'amq.topic' : dest.exchange;
      // The exchange must exist: /exchange never declares one (NOT_FOUND, as in RabbitMQ).
      channel.exchangeDeclare(
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
      channel.queueDeclare(queue, {
        durable,
        exclusive: !durable,
        autoDelete: !durable,
        arguments: queueArguments(headers),
      });
      channel.queueBind(queue, exchange, dest.kind === 'topic' ? dest.key : dest.key);
      return { queue, privateQueue: true, durableQueue: durable ? queue : undefined };
    }
  }
}
