import { Decimal, PERSISTENT, type FieldValue, type Message, type MessageProperties } from '@warren/core';
import type { SelectorValue } from '../selector';
import { replyToHeader } from './destination';

/**
 * What a selector identifier names in a message, whichever protocol published it:
 * - the STOMP header names of the mapping table (content-type, priority, correlation-id, ... — quoted, since
 *   they contain '-': "content-type" = 'text/plain'), read from the message properties;
 * - the JMS header names (JMSPriority, JMSDeliveryMode, JMSMessageID, JMSCorrelationID, JMSType,
 *   JMSTimestamp in ms, JMSReplyTo, JMSExpiration), as ActiveMQ's STOMP clients know them;
 * - anything else: the application headers (the AMQP headers table; a STOMP SEND's own headers).
 */
export function selectorValue(msg: Message, name: string): SelectorValue {
  const p = msg.properties;
  const mapped = propertyValue(p, name);
  if (mapped !== undefined) return mapped;
  const v = p.headers?.[name];
  return v === undefined ? null : fieldToSelector(v);
}

function propertyValue(p: MessageProperties, name: string): SelectorValue | undefined {
  switch (name) {
    case 'content-type':
      return p.contentType ?? null;
    case 'content-encoding':
      return p.contentEncoding ?? null;
    case 'persistent':
      return p.deliveryMode === PERSISTENT;
    case 'priority':
      return p.priority ?? null;
    case 'correlation-id':
    case 'JMSCorrelationID':
      return p.correlationId ?? null;
    case 'reply-to':
    case 'JMSReplyTo':
      return p.replyTo === undefined ? null : replyToHeader(p.replyTo);
    case 'expiration':
      return p.expiration ?? null;
    case 'JMSExpiration':
      return p.expiration === undefined ? null : Number(p.expiration);
    case 'amqp-message-id':
    case 'JMSMessageID':
      return p.messageId ?? null;
    case 'timestamp':
      return p.timestamp ?? null;
    case 'JMSTimestamp':
      return p.timestamp === undefined ? null : p.timestamp * 1000;
    case 'type':
    case 'JMSType':
      return p.type ?? null;
    case 'user-id':
      return p.userId ?? null;
    case 'app-id':
      return p.appId ?? null;
    case 'JMSPriority':
      // JMS: 4 is the default priority of a message that states none.
      return p.priority ?? 4;
    case 'JMSDeliveryMode':
      return p.deliveryMode === PERSISTENT ? 'PERSISTENT' : 'NON_PERSISTENT';
    default:
      return undefined;
  }
}

function fieldToSelector(v: FieldValue): SelectorValue {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return v.toNumber();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return null;
}
