/**
 * The one STOMP header <-> AMQP property table, used for SEND (headers -> properties) and for MESSAGE
 * (properties -> headers), so a message crossing protocols keeps every property both ways.
 *
 * | STOMP header       | MessageProperties | a SEND may say                                                       |
 * | ------------------ | ----------------- | -------------------------------------------------------------------- |
 * | content-type       | contentType       | text of at most 255 UTF-8 octets (shortstr)                          |
 * | content-encoding   | contentEncoding   | text of at most 255 UTF-8 octets (shortstr)                          |
 * | persistent         | deliveryMode      | true / false in any letter case; true <-> 2, false = absent          |
 * | priority           | priority          | decimal 0..255, spaces around it allowed                             |
 * | correlation-id     | correlationId     | text of at most 255 UTF-8 octets (shortstr)                          |
 * | reply-to           | replyTo           | /reply-queue/x <-> x; /temp-queue/x -> its queue; then shortstr      |
 * | expiration         | expiration        | milliseconds: 1 to 15 decimal digits                                 |
 * | amqp-message-id    | messageId         | shortstr; MESSAGE's own message-id is the ack handle (RabbitMQ)      |
 * | timestamp          | timestamp         | seconds since the epoch: decimal 0..2^53-1, spaces around it allowed |
 * | type               | type              | text of at most 255 UTF-8 octets (shortstr)                          |
 * | user-id            | userId            | shortstr, and the session's own user (checked by the channel)        |
 * | app-id             | appId             | text of at most 255 UTF-8 octets (shortstr)                          |
 * | anything else      | headers[name]     | any value (a longstr); the name at most 255 octets (a shortstr key)  |
 *
 * Anything else a SEND says is refused with `ERROR message:Invalid header`, at SEND: every property is then
 * one the AMQP encoder can write (AMQP 0-9-1 section 4.2.5.3: a short string holds at most 255 octets), so a
 * message never fails later, when an AMQP consumer is handed it (DESIGN §4b, validate at the door).
 *
 * Where this differs from RabbitMQ's adapter (rabbit_stomp_util:message_properties): RabbitMQ takes persistent
 * as true/True (false/False or anything else: transient); Warren takes any letter case but refuses a value that
 * is neither, rather than silently dropping durability the client asked for in other words. RabbitMQ strips
 * spaces around priority and timestamp (integer_header), and so does Warren. Over-long shortstr values and
 * priorities past 255 fail in RabbitMQ too, only later and less clearly.
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

/** AMQP 0-9-1 section 4.2.5.3: a short string holds at most 255 octets. */
const SHORTSTR_MAX = 255;
/** A UTF-16 unit is at most 3 UTF-8 octets, so a string this short always fits and needs no byte count. */
const SHORTSTR_SAFE_UNITS = 85;

/** Whether `text` fits an AMQP short string; counts bytes only for strings that might not. */
export function fitsShortstr(text: string): boolean {
  return text.length <= SHORTSTR_SAFE_UNITS || Buffer.byteLength(text, 'utf8') <= SHORTSTR_MAX;
}

const PRIORITY = /^ *([0-9]{1,3}) *$/;
const TIMESTAMP = /^ *([0-9]{1,16}) *$/;
/** What the core's parseExpiration takes (RabbitMQ: a non-negative decimal integer). */
const EXPIRATION = /^[0-9]{1,15}$/;

function invalidHeader(name: string, value: string, expected: string): StompFailure {
  return new StompFailure(
    'Invalid header',
    `Header '${name}' has an invalid value '${value.slice(0, 64)}': expected ${expected}.\n`,
  );
}

/**
 * Every boolean header Warren reads (persistent, durable, auto-delete, requeue, x-single-active-consumer):
 * "true" or "false" in any letter case, since Python clients send str(True), "True", which RabbitMQ's
 * boolean_header accepts too. Undefined when the header is absent or neither; the caller decides whether
 * that means its default or an error.
 */
export function booleanHeader(headers: StompHeaders, name: string): boolean | undefined {
  const lower = headers.get(name)?.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

function tooLong(name: string): StompFailure {
  return new StompFailure(
    'Invalid header',
    `Header '${name}' is longer than ${SHORTSTR_MAX} bytes, the most an AMQP short string holds.\n`,
  );
}

/** A header that becomes an AMQP shortstr property. */
function shortstrHeader(headers: StompHeaders, name: string): string | undefined {
  const v = headers.get(name);
  if (v !== undefined && !fitsShortstr(v)) throw tooLong(name);
  return v;
}

function integerHeader(
  headers: StompHeaders,
  name: string,
  syntax: RegExp,
  max: number,
  expected: string,
): number | undefined {
  const v = headers.get(name);
  if (v === undefined) return undefined;
  const digits = syntax.exec(v)?.[1];
  const n = digits === undefined ? NaN : Number(digits);
  if (!(n <= max)) throw invalidHeader(name, v, expected);
  return n;
}

/**
 * SEND headers -> properties. `resolveReplyTo` turns a /temp-queue/x into the session's private queue name
 * (it creates the queue on first use); everything else follows the table above. Throws StompFailure
 * (Invalid header) for a value the table does not take.
 */
export function propertiesFromSend(
  headers: StompHeaders,
  resolveReplyTo: (replyTo: string) => string,
): MessageProperties {
  const p: MessageProperties = {};
  let table: FieldTable | undefined;
  for (const [name, value] of headers) {
    if (NOT_APPLICATION.has(name)) continue;
    // The key of an AMQP field table is a short string (AMQP 0-9-1 section 4.2.5.5).
    if (!fitsShortstr(name)) {
      throw new StompFailure(
        'Invalid header',
        `Header name '${name.slice(0, 64)}...' is longer than ${SHORTSTR_MAX} bytes, the most an AMQP ` +
          'headers table key holds.\n',
      );
    }
    table ??= {};
    // A plain assignment to "__proto__" would set the prototype instead of adding the header.
    Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
  }
  if (table !== undefined) p.headers = table;
  const contentType = shortstrHeader(headers, 'content-type');
  if (contentType !== undefined) p.contentType = contentType;
  const contentEncoding = shortstrHeader(headers, 'content-encoding');
  if (contentEncoding !== undefined) p.contentEncoding = contentEncoding;
  const persistent = headers.get('persistent');
  if (persistent !== undefined) {
    const durable = booleanHeader(headers, 'persistent');
    if (durable === undefined) throw invalidHeader('persistent', persistent, 'true or false');
    if (durable) p.deliveryMode = PERSISTENT;
  }
  const priority = integerHeader(headers, 'priority', PRIORITY, 255, 'an integer from 0 to 255');
  if (priority !== undefined) p.priority = priority;
  const correlationId = shortstrHeader(headers, 'correlation-id');
  if (correlationId !== undefined) p.correlationId = correlationId;
  const expiration = headers.get('expiration');
  if (expiration !== undefined) {
    // Refused here with a STOMP error rather than by the core as a channel error that ends the session.
    if (!EXPIRATION.test(expiration)) {
      throw invalidHeader('expiration', expiration, 'milliseconds as a non-negative decimal integer');
    }
    p.expiration = expiration;
  }
  const messageId = headers.has('amqp-message-id')
    ? shortstrHeader(headers, 'amqp-message-id')
    : shortstrHeader(headers, 'message-id');
  if (messageId !== undefined) p.messageId = messageId;
  // An AMQP timestamp is 64-bit; past 2^53 a JavaScript number would no longer hold it exactly.
  const timestamp = integerHeader(
    headers,
    'timestamp',
    TIMESTAMP,
    Number.MAX_SAFE_INTEGER,
    'seconds since the epoch as a non-negative decimal integer',
  );
  if (timestamp !== undefined) p.timestamp = timestamp;
  const type = shortstrHeader(headers, 'type');
  if (type !== undefined) p.type = type;
  const userId = shortstrHeader(headers, 'user-id');
  if (userId !== undefined) p.userId = userId;
  const appId = shortstrHeader(headers, 'app-id');
  if (appId !== undefined) p.appId = appId;
  // Last: resolving a /temp-queue/ creates the session's queue for it, so nothing may be refused after it. Its
  // result is a short server-made name; any other reply-to maps to a part of itself, checked before use.
  const replyTo = headers.get('reply-to');
  if (replyTo !== undefined) {
    if (!replyTo.startsWith('/temp-queue/') && !fitsShortstr(replyToProperty(replyTo)))
      throw tooLong('reply-to');
    p.replyTo = resolveReplyTo(replyTo);
  }
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
