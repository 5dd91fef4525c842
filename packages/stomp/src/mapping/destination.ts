/**
 * STOMP destinations in RabbitMQ's model (rabbitmq_stomp "Destinations"):
 *
 *   /queue/name            a durable shared queue, declared on SUBSCRIBE and on first SEND; SEND goes through the
 *                          default exchange
 *   /topic/key             amq.topic with routing key `key`; every subscriber gets a queue of its own
 *   /exchange/name[/key]   any existing exchange; SUBSCRIBE binds a private queue with `key`
 *   /amq/queue/name        an existing queue, never declared
 *   /temp-queue/x          a private reply queue of the session (in reply-to; receivers see /reply-queue/...)
 *   /reply-queue/name      a reply queue someone else owns
 *   name                   no leading "/": a queue of that name (Net::Stomp's `foo`), as /queue/name
 */
import { StompFailure } from '../session/stomp-failure';

export type Destination =
  | { readonly kind: 'queue'; readonly name: string }
  | { readonly kind: 'amq-queue'; readonly name: string }
  | { readonly kind: 'topic'; readonly key: string }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly key: string }
  | { readonly kind: 'temp-queue'; readonly name: string }
  | { readonly kind: 'reply-queue'; readonly name: string };

const PREFIXES: readonly [string, Destination['kind']][] = [
  ['/queue/', 'queue'],
  ['/amq/queue/', 'amq-queue'],
  ['/topic/', 'topic'],
  ['/exchange/', 'exchange'],
  ['/temp-queue/', 'temp-queue'],
  ['/reply-queue/', 'reply-queue'],
];

function unknown(text: string): StompFailure {
  return new StompFailure(
    'Unknown destination',
    `'${text}' is not a valid destination.\nValid destination types are: /temp-queue, /exchange, /topic, /queue, /amq/queue, /reply-queue/.\n`,
  );
}

/**
 * A known type with a malformed name, in RabbitMQ's words: `content` is what follows the type's word, so
 * "/queue/a/b" is "'/a/b' is not a valid queue destination" and a bare "/topic" is "'' is not a valid topic
 * destination".
 */
function invalid(type: string, content: string): StompFailure {
  return new StompFailure('Invalid destination', `'${content}' is not a valid ${type} destination\n`);
}

/** The types whose bare word ("/queue", "/topic", "/exchange") RabbitMQ reads as that type with no name. */
const TYPE_WORDS: ReadonlyMap<string, string> = new Map([
  ['/queue', 'queue'],
  ['/topic', 'topic'],
  ['/exchange', 'exchange'],
  ['/amq/queue', 'amq/queue'],
]);

/**
 * Parses a destination header as RabbitMQ's STOMP adapter does: an unknown type is "Unknown destination"; a
 * queue or topic name with a "/" in it, an exchange destination with more than exchange and key, or an empty
 * name is "Invalid destination".
 */
export function parseDestination(text: string): Destination {
  if (!text.startsWith('/')) {
    if (text === '') throw unknown(text);
    return { kind: 'queue', name: text };
  }
  const bare = TYPE_WORDS.get(text);
  if (bare !== undefined) throw invalid(bare, '');
  for (const [prefix, kind] of PREFIXES) {
    if (!text.startsWith(prefix)) continue;
    const rest = text.slice(prefix.length);
    const word = prefix.slice(1, -1);
    switch (kind) {
      case 'topic':
        if (rest.includes('/')) throw invalid(word, `/${rest}`);
        return { kind, key: rest };
      case 'exchange': {
        const parts = rest.split('/');
        const [exchange = '', key = ''] = parts;
        if (exchange === '' || parts.length > 2) throw invalid(word, `/${rest}`);
        return { kind, exchange, key };
      }
      case 'queue':
      case 'amq-queue':
        if (rest === '' || rest.includes('/')) throw invalid(word, `/${rest}`);
        return { kind, name: rest };
      default:
        if (rest === '') throw unknown(text);
        return { kind, name: rest };
    }
  }
  throw unknown(text);
}

/**
 * The destination header of a MESSAGE, computed from where the message was published (RabbitMQ does the same,
 * so a message sent to /topic/a.b arrives as /topic/a.b and one published by AMQP to the default exchange as
 * /queue/<routing key>).
 */
export function destinationOf(exchange: string, routingKey: string): string {
  if (exchange === '') return `/queue/${routingKey}`;
  if (exchange === 'amq.topic') return `/topic/${routingKey}`;
  return routingKey === '' ? `/exchange/${exchange}` : `/exchange/${exchange}/${routingKey}`;
}

/** reply-to as stored in the AMQP property: /reply-queue/x and /temp-queue names become the bare queue name. */
export function replyToProperty(header: string): string {
  return header.startsWith('/reply-queue/') ? header.slice('/reply-queue/'.length) : header;
}

/** reply-to as a STOMP receiver sees it: a bare queue name (an AMQP reply queue) becomes /reply-queue/name. */
export function replyToHeader(property: string): string {
  return property.startsWith('/') ? property : `/reply-queue/${property}`;
}
