/**
 * Method frame payloads (AMQP 0-9-1 section 4.2.4).
 *
 *   method-payload = class-id method-id *amqp-field
 *   class-id       = short
 *   method-id      = short
 */
import { WarrenError } from '@warren/core';
import { decodeMethod, methodInfo, type Method } from './generated/methods';
import { hexSnippet } from './primitives';

/** Decodes a method frame's payload; the result holds no reference to `payload`. */
export function decodeMethodFrame(payload: Buffer): Method {
  if (payload.length < 4) {
    // RabbitMQ: a method frame too short for its ids does not analyse as a frame at all (501).
    throw new WarrenError('FRAME_ERROR', `method frame too short: ${hexSnippet(payload, 0, payload.length)}`);
  }
  return decodeMethod(payload.readUInt16BE(0), payload.readUInt16BE(2), payload, 4, payload.length);
}

/** RabbitMQ's name of a method for error texts: 'queue.declare'. */
export function methodName(m: Method): string {
  return methodInfo(m.id >>> 16, m.id & 0xffff)?.name ?? `method ${m.id >>> 16}.${m.id & 0xffff}`;
}
