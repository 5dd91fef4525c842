import type { FieldTable } from './field-table';

/**
 * The fourteen AMQP basic properties, protocol-neutral. STOMP maps its headers onto the same fields
 * (content-type, persistent <-> deliveryMode 2, ...). An absent property is `undefined`, never `null`.
 */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Per-message TTL in milliseconds, as a decimal string (AMQP's shortstr). */
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch (AMQP timestamp). */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

export const PERSISTENT = 2;
