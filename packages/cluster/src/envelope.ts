/*
 * A message as a queue's stream stores it: where it was published, its properties and its body, in one
 * buffer (a JetStream message is one payload; headers are for the server: Nats-Msg-Id).
 *
 *   envelope   := magic:"WE" version:u8(=1)
 *                 exchangeLen:u8 exchange             AMQP shortstr: at most 255 bytes of UTF-8
 *                 routingKeyLen:u16 routingKey         u16: a STOMP destination may make a longer key
 *                 formatLen:u8 format                  "" = this package's JSON properties (value-codec.ts);
 *                                                      else a protocol's own bytes, e.g. "amqp-0-9-1"'s
 *                                                      content-header property list, kept to re-send as is
 *                 propertiesLen:u32 properties
 *                 body                                 to the end of the payload
 *   (integers big-endian, as on the AMQP wire)
 *
 * decodeEnvelope returns views: `properties` and `body` share the payload's memory. A caller that keeps a
 * body past the delivery (a queue holding it) copies it, so a small message does not pin a large buffer.
 */
import { Message, type MessageProperties } from '@warren/core';
import { decodeProperties, encodeProperties } from './value-codec';

const MAGIC0 = 0x57; // W
const MAGIC1 = 0x45; // E
const VERSION = 1;
/** magic (2) + version (1) + exchangeLen (1) + routingKeyLen (2) + formatLen (1) + propertiesLen (4). */
const FIXED = 11;
export const WARREN_PROPERTIES = '';

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

export interface EnvelopeInput {
  exchange: string;
  routingKey: string;
  /** Decoded properties (stored as JSON), or a protocol's raw property bytes with their format name. */
  properties: MessageProperties | { format: string; bytes: Uint8Array };
  body: Uint8Array;
}

export interface Envelope {
  exchange: string;
  routingKey: string;
  /** WARREN_PROPERTIES ('') or the protocol format of `properties`. */
  propertiesFormat: string;
  /** A view into the payload. */
  properties: Buffer;
  /** A view into the payload: copy it to keep it. */
  body: Buffer;
}

function isRaw(p: EnvelopeInput['properties']): p is { format: string; bytes: Uint8Array } {
  return (
    typeof (p as { format?: unknown }).format === 'string' &&
    (p as { bytes?: unknown }).bytes instanceof Uint8Array
  );
}

/** One allocation of the final size; the body is copied once, into it. */
export function encodeEnvelope(m: EnvelopeInput): Buffer {
  const raw = isRaw(m.properties);
  const format = raw ? (m.properties as { format: string }).format : WARREN_PROPERTIES;
  const props = raw
    ? (m.properties as { bytes: Uint8Array }).bytes
    : encodeProperties(m.properties as MessageProperties);
  const exLen = Buffer.byteLength(m.exchange, 'utf8');
  const rkLen = Buffer.byteLength(m.routingKey, 'utf8');
  const fmtLen = Buffer.byteLength(format, 'latin1');
  if (exLen > 0xff) throw new EnvelopeError(`exchange name of ${exLen} bytes (at most 255)`);
  if (rkLen > 0xffff) throw new EnvelopeError(`routing key of ${rkLen} bytes (at most 65535)`);
  if (fmtLen > 0xff || !/^[\x20-\x7e]*$/.test(format)) throw new EnvelopeError('bad properties format name');
  const out = Buffer.allocUnsafe(FIXED + exLen + rkLen + fmtLen + props.length + m.body.length);
  let o = 0;
  out[o++] = MAGIC0;
  out[o++] = MAGIC1;
  out[o++] = VERSION;
  out[o++] = exLen;
  o += out.write(m.exchange, o, 'utf8');
  o = out.writeUInt16BE(rkLen, o);
  o += out.write(m.routingKey, o, 'utf8');
  out[o++] = fmtLen;
  o += out.write(format, o, 'latin1');
  o = out.writeUInt32BE(props.length, o);
  out.set(props, o);
  o += props.length;
  out.set(m.body, o);
  return out;
}

export function decodeEnvelope(payload: Uint8Array): Envelope {
  const b = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < FIXED) throw new EnvelopeError(`envelope of ${b.length} bytes is too short`);
  if (b[0] !== MAGIC0 || b[1] !== MAGIC1) throw new EnvelopeError('not a Warren envelope (bad magic)');
  if (b[2] !== VERSION) throw new EnvelopeError(`unknown envelope version ${b[2]}`);
  let o = 3;
  const need = (n: number): void => {
    if (o + n > b.length) throw new EnvelopeError(`envelope truncated at byte ${o} (needs ${n} more)`);
  };
  const exLen = b[o++] as number;
  need(exLen + 2);
  const exchange = b.toString('utf8', o, o + exLen);
  o += exLen;
  const rkLen = b.readUInt16BE(o);
  o += 2;
  need(rkLen + 1);
  const routingKey = b.toString('utf8', o, o + rkLen);
  o += rkLen;
  const fmtLen = b[o++] as number;
  need(fmtLen + 4);
  const propertiesFormat = b.toString('latin1', o, o + fmtLen);
  o += fmtLen;
  const propsLen = b.readUInt32BE(o);
  o += 4;
  need(propsLen);
  const properties = b.subarray(o, o + propsLen);
  o += propsLen;
  return { exchange, routingKey, propertiesFormat, properties, body: b.subarray(o) };
}

/** The decoded properties of an envelope whose properties are this package's JSON. */
export function envelopeProperties(e: Envelope): MessageProperties {
  if (e.propertiesFormat !== WARREN_PROPERTIES) {
    throw new EnvelopeError(
      `properties are in ${e.propertiesFormat}: decode them with that protocol's codec`,
    );
  }
  return e.properties.length === 0 ? {} : decodeProperties(e.properties);
}

/** A message as a stream or a hop to another node carries it. */
export function envelopeOf(msg: Message): Buffer {
  return encodeEnvelope({
    exchange: msg.exchange,
    routingKey: msg.routingKey,
    properties: msg.properties,
    body: msg.body,
  });
}

/**
 * The message an envelope carries, for a queue to keep: the body is copied out of the payload (a view into a
 * client's read buffer), once, so a small message does not pin a large buffer.
 */
export function messageOf(payload: Uint8Array): Message {
  const e = decodeEnvelope(payload);
  return Message.fromProperties(e.exchange, e.routingKey, envelopeProperties(e), Buffer.from(e.body));
}
