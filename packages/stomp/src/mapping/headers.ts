/**
 * The one STOMP header <-> AMQP property table, used for SEND (headers -> properties) and for MESSAGE
 * (properties -> headers), so a message crossing protocols keeps every property both ways.
 *
 * | STOMP header       | MessageProperties         | note                                                   |
 * | ------------------ | ------------------------- | ------------------------------------------------------ |
 * | content-type       | contentType               |                                                        |
 * | content-encoding   | contentEncoding           |                                                        |
 * | persistent         | deliveryMode              | "true" <-> 2; MESSAGE says persistent:true only for 2   |
 * | priority           | priority                  | integer 0..255                                         |
 * | correlation-id     | correlationId             |                                                        |
 * | reply-to           | replyTo                   | /reply-queue/x <-> x; /temp-queue/x -> its queue name    |
 * | expiration         | expiration                | milliseconds, decimal                                  |
 * | amqp-message-id    | messageId                 | MESSAGE's own message-id is the ack handle (RabbitMQ)  |
 * | timestamp          | timestamp                 | seconds since the epoch                                |
 * | type               | type                      |                                                        |
 * | user-id            | userId                    |                                                        |
 * | app-id             | appId                     |                                                        |
 * | anything else      | headers[name]             | strings; numbers and booleans from AMQP as text        |
 *
 * A SEND may also say message-id (RabbitMQ refuses it); Warren takes it as amqp-message-id when that is absent.
 */
import { Decimal, PERSISTENT, type FieldTable, type FieldValue, type MessageProperties } from '@warren/core';
import type { StompHeaders } from '../codec/frame';
import { StompFailure } from '../session/stomp-failure';
import { replyToHeader, replyToProperty } from './destination';

/** Headers about the frame itself or named by the table: never copied into the AMQP headers table. */
const NOT_APPLICATION: ReadonlySet<string> = new Set([
  'destination',
  'receipt',
  'transaction',
  'content-length',
  'content-type',
  'content-encoding',
  'persistent',
  'priority',
  'correlation-id',
  'reply-to',
  'expiration',
  'amqp-message-id',
  'message-id',
  'timestamp',
  'type',
  'user-id',
  'app-id',
]);

/** Headers a MESSAGE sets per delivery: an application header of the same name would shadow nothing useful. */
const PER_DELIVERY: ReadonlySet<string> = new Set([
  'subscription',
  'message-id',
  'redelivered',
  'ack',
  'x-delivery-count',
]);

const INTEGER = /^-?[0-9]{1,15}$/;

function invalidHeader(name: string, value: string): StompFailure {
  return new StompFailure('Invalid header', `Header '${name}' has an invalid value '${value.slice(0, 64)}'.`);
}

function integerHeader(headers: StompHeaders, name: string, min: number, max: number): number | undefined {
  const v = headers.get(name);
  if (v === undefined) return undefined;
  const n = INTEGER.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw invalidHeader(name, v);
  return n;
}

/**
 * SEND headers -> properties. `resolveReplyTo` turns a /temp-queue/x into the session's private queue name
 * (it creates the queue on first use); everything else follows the table above.
 */
export function propertiesFromSend(
  headers: StompHeaders,
  resolveReplyTo: (replyTo: string) => string,
): MessageProperties {
  const p: MessageProperties = {};
  let table: FieldTable | undefined;
  for (const [name, value] of headers) {
    if (NOT_APPLICATION.has(name)) continue;
    table ??= {};
    table[name] = value;
  }
  if (table !== undefined) p.headers = table;
  const contentType = headers.get('content-type');
  if (contentType !== undefined) p.contentType = contentType;
  const contentEncoding = headers.get('content-encoding');
  if (contentEncoding !== undefined) p.contentEncoding = contentEncoding;
  if (headers.get('persistent') === 'true') p.deliveryMode = PERSISTENT;
  const priority = integerHeader(headers, 'priority', 0, 255);
  if (priority !== undefined) p.priority = priority;
  const correlationId = headers.get('correlation-id');
  if (correlationId !== undefined) p.correlationId = correlationId;
  const replyTo = headers.get('reply-to');
  if (replyTo !== undefined) p.replyTo = resolveReplyTo(replyTo);
  const expiration = headers.get('expiration');
  if (expiration !== undefined) {
    // RabbitMQ takes only a non-negative decimal integer; refused here with a STOMP error, not a channel error.
    if (!/^[0-9]{1,15}$/.test(expiration)) throw invalidHeader('expiration', expiration);
    p.expiration = expiration;
  }
  const messageId = headers.get('amqp-message-id') ?? headers.get('message-id');
  if (messageId !== undefined) p.messageId = messageId;
  const timestamp = integerHeader(headers, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
  if (timestamp !== undefined) p.timestamp = timestamp;
  const type = headers.get('type');
  if (type !== undefined) p.type = type;
  const userId = headers.get('user-id');
  if (userId !== undefined) p.userId = userId;
  const appId = headers.get('app-id');
  if (appId !== undefined) p.appId = appId;
  return p;
}

/** An AMQP header value as STOMP text, or undefined for kinds STOMP cannot carry (tables, arrays, bytes). */
export function headerText(v: FieldValue | undefined): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    default:
      return v instanceof Decimal ? String(v.toNumber()) : undefined;
  }
}

/**
 * Properties -> MESSAGE headers, in RabbitMQ's order (application headers first, content-type last), without
 * the per-delivery ones (subscription, destination, message-id, redelivered, ack) the session writes itself.
 */
export function headersFromProperties(p: MessageProperties): [string, string][] {
  const out: [string, string][] = [];
  const table = p.headers;
  if (table !== undefined) {
    for (const name in table) {
      if (NOT_APPLICATION.has(name) || PER_DELIVERY.has(name)) continue;
      const text = headerText(table[name]);
      if (text !== undefined) out.push([name, text]);
    }
  }
  if (p.appId !== undefined) out.push(['app-id', p.appId]);
  if (p.userId !== undefined) out.push(['user-id', p.userId]);
  if (p.type !== undefined) out.push(['type', p.type]);
  if (p.timestamp !== undefined) out.push(['timestamp', String(p.timestamp)]);
  if (p.messageId !== undefined) out.push(['amqp-message-id', p.messageId]);
  if (p.expiration !== undefined) out.push(['expiration', p.expiration]);
  if (p.replyTo !== undefined) out.push(['reply-to', replyToHeader(p.replyTo)]);
  if (p.correlationId !== undefined) out.push(['correlation-id', p.correlationId]);
  if (p.priority !== undefined) out.push(['priority', String(p.priority)]);
  if (p.deliveryMode === PERSISTENT) out.push(['persistent', 'true']);
  if (p.contentEncoding !== undefined) out.push(['content-encoding', p.contentEncoding]);
  if (p.contentType !== undefined) out.push(['content-type', p.contentType]);
  return out;
}

export { replyToProperty };
