import { isFieldTable, type FieldTable, type FieldValue } from './field-table';
import type { Message } from './message';
import type { MessageProperties } from './properties';

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/**
 * The message a queue republishes to its dead-letter exchange, with RabbitMQ's `x-death` history: one table
 * per (queue, reason), most recent first, its `count` incremented when a message dies the same way again;
 * plus x-first-death-* (set once) and x-last-death-* headers. The `expiration` property is removed so the
 * message cannot expire again wherever it lands; its value is kept as `original-expiration`.
 */
export function deadLetterMessage(
  msg: Message,
  queue: string,
  reason: DeathReason,
  exchange: string,
  routingKey: string | undefined,
  now: number,
): Message {
  const props = msg.properties;
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const previous = Array.isArray(headers['x-death']) ? (headers['x-death'] as FieldValue[]) : [];
  const deaths: FieldTable[] = previous.filter(isFieldTable);

  const i = deaths.findIndex((d) => d['queue'] === queue && d['reason'] === reason);
  let death: FieldTable;
  if (i >= 0) {
    const old = deaths.splice(i, 1)[0] as FieldTable;
    const count =
      typeof old['count'] === 'bigint' ? Number(old['count']) : (old['count'] as number | undefined);
    death = { ...old, count: (count ?? 0) + 1, time: new Date(Math.floor(now / 1000) * 1000) };
  } else {
    death = {
      count: 1,
      reason,
      queue,
      time: new Date(Math.floor(now / 1000) * 1000),
      exchange: msg.exchange,
      'routing-keys': [msg.routingKey],
    };
    if (props.expiration !== undefined) death['original-expiration'] = props.expiration;
  }
  deaths.unshift(death);
  headers['x-death'] = deaths;
  if (headers['x-first-death-reason'] === undefined) {
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-exchange'] = msg.exchange;
  }
  headers['x-last-death-reason'] = reason;
  headers['x-last-death-queue'] = queue;
  headers['x-last-death-exchange'] = msg.exchange;

  const next: MessageProperties = { ...props, headers };
  delete next.expiration;
  return msg.derive(exchange, routingKey ?? msg.routingKey, next);
}

/**
 * RabbitMQ drops a dead-lettered message instead of routing it back into a queue it already died in, unless
 * a client rejection is part of the cycle: a cycle of only expiries or overflows would loop forever.
 */
export function isDeadLetterCycle(msg: Message, target: string): boolean {
  const deaths = msg.properties.headers?.['x-death'];
  if (!Array.isArray(deaths)) return false;
  let seen = false;
  for (const d of deaths) {
    if (!isFieldTable(d)) continue;
    if (d['reason'] === 'rejected') return false;
    if (d['queue'] === target) seen = true;
  }
  return seen;
}
