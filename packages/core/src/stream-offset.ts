import { WarrenError } from './errors';
import type { FieldValue } from './field-table';
import { parseMaxAge } from './queue-arguments';

/**
 * Where a stream consumer starts, from its x-stream-offset argument (RabbitMQ 3.10's
 * rabbit_stream_queue:parse_offset_arg): absent or "next" the next message appended; "first" the oldest kept;
 * "last" the newest; an integer that offset; an AMQP timestamp (seconds) the first chunk at or after it; a
 * relative string like "1h" (x-max-age's grammar) that long before now.
 */
export type StreamOffsetSpec =
  | { kind: 'first' | 'last' | 'next' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; ms: number };

/**
 * The consumer argument as a spec, or PRECONDITION_FAILED with RabbitMQ's "invalid arg" text (its
 * check_stream_offset_arg runs before the consumer is made).
 */
export function parseStreamOffset(
  value: FieldValue | undefined,
  where: string,
  now: number,
): StreamOffsetSpec {
  if (value === undefined || value === 'next') return { kind: 'next' };
  if (value === 'first' || value === 'last') return { kind: value };
  if (value instanceof Date) return { kind: 'timestamp', ms: value.getTime() };
  if (typeof value === 'number' && Number.isInteger(value))
    return { kind: 'offset', offset: Math.max(0, value) };
  if (typeof value === 'bigint') return { kind: 'offset', offset: value < 0n ? 0 : Number(value) };
  if (typeof value === 'string') {
    const ms = parseMaxAge(value);
    if (ms !== null) return { kind: 'timestamp', ms: now - ms };
  }
  throw new WarrenError(
    'PRECONDITION_FAILED',
    `invalid arg 'x-stream-offset' for ${where}: {invalid_stream_offset_arg,${shown(value)}}`,
  );
}

function shown(value: FieldValue): string {
  if (typeof value === 'string') return `{longstr,<<"${value}">>}`;
  if (typeof value === 'number') return `{double,${value}}`;
  return JSON.stringify(value) ?? String(value);
}
