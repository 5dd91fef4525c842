/**
 * Content header frames and the basic class's fourteen properties (AMQP 0-9-1 section 4.2.6.1).
 *
 *   content-header = class-id weight body-size property-flags property-list
 *   class-id       = short                  ; 60 for basic
 *   weight         = short                  ; unused, always 0
 *   body-size      = longlong
 *   property-flags = 15*bit continuation    ; bit 15 = first property ... bit 2 = fourteenth, bit 1 unused
 *   property-list  = *amqp-field            ; only the properties whose flag is set, in flag order
 *
 *   flag  property           type          flag  property         type
 *   15    content-type       shortstr      8     expiration       shortstr
 *   14    content-encoding   shortstr      7     message-id       shortstr
 *   13    headers            table         6     timestamp        timestamp
 *   12    delivery-mode      octet         5     type             shortstr
 *   11    priority           octet         4     user-id          shortstr
 *   10    correlation-id     shortstr      3     app-id           shortstr
 *   9     reply-to           shortstr      2     cluster-id       shortstr
 *
 * "Raw properties" below means property-flags + property-list, exactly as they arrived: the broker keeps them
 * so AMQP-to-AMQP forwarding re-sends the bytes, and decodes them only when someone asks.
 */
import { WarrenError, type MessageProperties } from '@warren/core';
import { checkFieldTable, decodeFieldTable, fieldTableSize, writeFieldTable } from './field-table';
import {
  cannotDecode,
  hexSnippet,
  longstrEnd,
  need,
  readLonglong,
  shortstrEnd,
  shortstrSize,
  writeLonglong,
  writeShortstr,
} from './primitives';

const CONTENT_TYPE = 1 << 15;
const CONTENT_ENCODING = 1 << 14;
const HEADERS = 1 << 13;
const DELIVERY_MODE = 1 << 12;
const PRIORITY = 1 << 11;
const CORRELATION_ID = 1 << 10;
const REPLY_TO = 1 << 9;
const EXPIRATION = 1 << 8;
const MESSAGE_ID = 1 << 7;
const TIMESTAMP = 1 << 6;
const TYPE = 1 << 5;
const USER_ID = 1 << 4;
const APP_ID = 1 << 3;
const CLUSTER_ID = 1 << 2;
/** Spec 4.2.6.1: a set bit 0 announces another flags word; basic has only 14 properties, so it never may. */
const CONTINUATION = 1;

const WHAT = 'content header';

/** Octets before the property flags: class-id, weight, body-size. */
export const CONTENT_HEADER_PREFIX = 12;

export interface ContentHeader {
  classId: number;
  bodySize: number;
  /** Raw properties: a view into the frame payload, valid only while the frame is; copy it to keep it. */
  properties: Buffer;
}

/** Parses a content header frame's payload, leaving the properties raw. */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  // Spec 4.2.6: the header carries at least class-id, weight, body-size and one flags word.
  need(payload, 0, CONTENT_HEADER_PREFIX + 2, payload.length, WHAT);
  return {
    classId: payload.readUInt16BE(0),
    bodySize: readLonglong(payload, 4),
    properties: payload.subarray(CONTENT_HEADER_PREFIX),
  };
}

/** The three properties routing needs on every publish, read without decoding the headers table. */
export interface RoutingProperties {
  deliveryMode: number | undefined;
  priority: number | undefined;
  expiration: string | undefined;
}

function readFlags(raw: Buffer, end: number): number {
  need(raw, 0, 2, end, WHAT);
  const flags = raw.readUInt16BE(0);
  if ((flags & CONTINUATION) !== 0) {
    throw new WarrenError(
      'FRAME_ERROR',
      `cannot decode ${WHAT}: property flags continue ${hexSnippet(raw, 0, end)}`,
    );
  }
  return flags;
}

/**
 * Fills `out` with delivery-mode, priority and expiration from raw properties, skipping the headers table by
 * its length prefix. `out` is the caller's, reused across publishes, so this allocates only the expiration
 * string (when present). Everything after expiration is not looked at.
 */
export function readRoutingProperties(raw: Buffer, out: RoutingProperties): RoutingProperties {
  const end = raw.length;
  const flags = readFlags(raw, end);
  let p = 2;
  if (flags & CONTENT_TYPE) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & CONTENT_ENCODING) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & HEADERS) p = longstrEnd(raw, p, end, WHAT);
  out.deliveryMode = undefined;
  out.priority = undefined;
  out.expiration = undefined;
  if (flags & DELIVERY_MODE) {
    need(raw, p, 1, end, WHAT);
    out.deliveryMode = raw[p++];
  }
  if (flags & PRIORITY) {
    need(raw, p, 1, end, WHAT);
    out.priority = raw[p++];
  }
  if (flags & EXPIRATION) {
    if (flags & CORRELATION_ID) p = shortstrEnd(raw, p, end, WHAT);
    if (flags & REPLY_TO) p = shortstrEnd(raw, p, end, WHAT);
    const q = shortstrEnd(raw, p, end, WHAT);
    out.expiration = raw.toString('utf8', p + 1, q);
  }
  return out;
}

function shortstr(raw: Buffer, p: number, end: number): [string, number] {
  const q = shortstrEnd(raw, p, end, WHAT);
  return [raw.toString('utf8', p + 1, q), q];
}

/**
 * Checks raw properties as a full decode would, without building anything: the flags, every present field
 * inside the list, the headers table walked to its last nested value, nothing left over. Run when the content
 * header arrives, so that decodeProperties can never fail later, when the message is delivered to another
 * protocol, routed by a headers exchange or dead-lettered in some other client's turn.
 */
export function checkProperties(raw: Buffer): void {
  const end = raw.length;
  const flags = readFlags(raw, end);
  let p = 2;
  if (flags & CONTENT_TYPE) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & CONTENT_ENCODING) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & HEADERS) {
    const q = longstrEnd(raw, p, end, WHAT);
    checkFieldTable(raw, p + 4, q);
    p = q;
  }
  if (flags & DELIVERY_MODE) p = need(raw, p, 1, end, WHAT);
  if (flags & PRIORITY) p = need(raw, p, 1, end, WHAT);
  if (flags & CORRELATION_ID) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & REPLY_TO) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & EXPIRATION) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & MESSAGE_ID) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & TIMESTAMP) p = need(raw, p, 8, end, WHAT);
  if (flags & TYPE) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & USER_ID) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & APP_ID) p = shortstrEnd(raw, p, end, WHAT);
  if (flags & CLUSTER_ID) p = shortstrEnd(raw, p, end, WHAT);
  if (p !== end) cannotDecode(WHAT, raw, p, end);
}

/** Decodes raw properties in full; an absent property stays absent (no key), as MessageProperties requires. */
export function decodeProperties(raw: Buffer): MessageProperties {
  const end = raw.length;
  const flags = readFlags(raw, end);
  const props: MessageProperties = {};
  let p = 2;
  if (flags & CONTENT_TYPE) [props.contentType, p] = shortstr(raw, p, end);
  if (flags & CONTENT_ENCODING) [props.contentEncoding, p] = shortstr(raw, p, end);
  if (flags & HEADERS) {
    const q = longstrEnd(raw, p, end, WHAT);
    props.headers = decodeFieldTable(raw, p + 4, q);
    p = q;
  }
  if (flags & DELIVERY_MODE) {
    need(raw, p, 1, end, WHAT);
    props.deliveryMode = raw[p++];
  }
  if (flags & PRIORITY) {
    need(raw, p, 1, end, WHAT);
    props.priority = raw[p++];
  }
  if (flags & CORRELATION_ID) [props.correlationId, p] = shortstr(raw, p, end);
  if (flags & REPLY_TO) [props.replyTo, p] = shortstr(raw, p, end);
  if (flags & EXPIRATION) [props.expiration, p] = shortstr(raw, p, end);
  if (flags & MESSAGE_ID) [props.messageId, p] = shortstr(raw, p, end);
  if (flags & TIMESTAMP) {
    need(raw, p, 8, end, WHAT);
    props.timestamp = readLonglong(raw, p);
    p += 8;
  }
  if (flags & TYPE) [props.type, p] = shortstr(raw, p, end);
  if (flags & USER_ID) [props.userId, p] = shortstr(raw, p, end);
  if (flags & APP_ID) [props.appId, p] = shortstr(raw, p, end);
  if (flags & CLUSTER_ID) [props.clusterId, p] = shortstr(raw, p, end);
  if (p !== end) cannotDecode(WHAT, raw, p, end);
  return props;
}

/** Octets of property-flags + property-list for `props`. */
export function propertiesSize(props: MessageProperties): number {
  let n = 2;
  if (props.contentType !== undefined) n += shortstrSize(props.contentType);
  if (props.contentEncoding !== undefined) n += shortstrSize(props.contentEncoding);
  if (props.headers !== undefined) n += fieldTableSize(props.headers);
  if (props.deliveryMode !== undefined) n += 1;
  if (props.priority !== undefined) n += 1;
  if (props.correlationId !== undefined) n += shortstrSize(props.correlationId);
  if (props.replyTo !== undefined) n += shortstrSize(props.replyTo);
  if (props.expiration !== undefined) n += shortstrSize(props.expiration);
  if (props.messageId !== undefined) n += shortstrSize(props.messageId);
  if (props.timestamp !== undefined) n += 8;
  if (props.type !== undefined) n += shortstrSize(props.type);
  if (props.userId !== undefined) n += shortstrSize(props.userId);
  if (props.appId !== undefined) n += shortstrSize(props.appId);
  if (props.clusterId !== undefined) n += shortstrSize(props.clusterId);
  return n;
}

/** Writes property-flags + property-list at `p`; `buf` must hold `propertiesSize(props)` octets from `p`. */
export function writeProperties(buf: Buffer, p: number, props: MessageProperties): number {
  const start = p;
  let flags = 0;
  p += 2;
  if (props.contentType !== undefined) {
    flags |= CONTENT_TYPE;
    p = writeShortstr(buf, p, props.contentType);
  }
  if (props.contentEncoding !== undefined) {
    flags |= CONTENT_ENCODING;
    p = writeShortstr(buf, p, props.contentEncoding);
  }
  if (props.headers !== undefined) {
    flags |= HEADERS;
    p = writeFieldTable(buf, p, props.headers);
  }
  if (props.deliveryMode !== undefined) {
    flags |= DELIVERY_MODE;
    p = buf.writeUInt8(props.deliveryMode, p);
  }
  if (props.priority !== undefined) {
    flags |= PRIORITY;
    p = buf.writeUInt8(props.priority, p);
  }
  if (props.correlationId !== undefined) {
    flags |= CORRELATION_ID;
    p = writeShortstr(buf, p, props.correlationId);
  }
  if (props.replyTo !== undefined) {
    flags |= REPLY_TO;
    p = writeShortstr(buf, p, props.replyTo);
  }
  if (props.expiration !== undefined) {
    flags |= EXPIRATION;
    p = writeShortstr(buf, p, props.expiration);
  }
  if (props.messageId !== undefined) {
    flags |= MESSAGE_ID;
    p = writeShortstr(buf, p, props.messageId);
  }
  if (props.timestamp !== undefined) {
    flags |= TIMESTAMP;
    p = writeLonglong(buf, p, props.timestamp);
  }
  if (props.type !== undefined) {
    flags |= TYPE;
    p = writeShortstr(buf, p, props.type);
  }
  if (props.userId !== undefined) {
    flags |= USER_ID;
    p = writeShortstr(buf, p, props.userId);
  }
  if (props.appId !== undefined) {
    flags |= APP_ID;
    p = writeShortstr(buf, p, props.appId);
  }
  if (props.clusterId !== undefined) {
    flags |= CLUSTER_ID;
    p = writeShortstr(buf, p, props.clusterId);
  }
  buf.writeUInt16BE(flags, start);
  return p;
}

/** Raw properties for `props`, e.g. to build a Message from another protocol. */
export function encodeProperties(props: MessageProperties): Buffer {
  const buf = Buffer.allocUnsafe(propertiesSize(props));
  writeProperties(buf, 0, props);
  return buf;
}

/** Properties as the writer takes them: decoded, or raw bytes forwarded untouched. */
export type PropertiesInput = MessageProperties | Buffer;

export function contentHeaderSize(props: PropertiesInput): number {
  return CONTENT_HEADER_PREFIX + (Buffer.isBuffer(props) ? props.length : propertiesSize(props));
}

/** Writes a content header payload at `p`; `buf` must hold `contentHeaderSize(props)` octets from `p`. */
export function writeContentHeader(
  buf: Buffer,
  p: number,
  classId: number,
  bodySize: number,
  props: PropertiesInput,
): number {
  buf.writeUInt16BE(classId, p);
  buf.writeUInt16BE(0, p + 2); // weight: spec 4.2.6.1 "MUST be zero"
  writeLonglong(buf, p + 4, bodySize);
  p += CONTENT_HEADER_PREFIX;
  return Buffer.isBuffer(props) ? p + props.copy(buf, p) : writeProperties(buf, p, props);
}
