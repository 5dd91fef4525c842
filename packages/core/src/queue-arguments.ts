import { describe, WarrenError } from './errors';
import { fieldInteger, fieldValuesEqual, type FieldTable, type FieldValue } from './field-table';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** The queue arguments the core acts on, validated once at declare. */
export interface QueueSettings {
  messageTtl: number | undefined;
  expires: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  maxPriority: number;
  singleActiveConsumer: boolean;
}

/**
 * Arguments whose values must match on re-declare (RabbitMQ's equivalence check). Other arguments are
 * accepted and ignored, as RabbitMQ does, so client libraries that send extras keep working.
 */
const EQUIVALENT_ARGS = [
  'x-message-ttl',
  'x-expires',
  'x-max-length',
  'x-max-length-bytes',
  'x-overflow',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-priority',
  'x-single-active-consumer',
  'x-queue-type',
] as const;

export function parseQueueArguments(args: FieldTable, queue: string, vhost: string): QueueSettings {
  const where = describe('queue', queue, vhost);
  const invalid = (arg: string, why: string): never => {
    throw new WarrenError('PRECONDITION_FAILED', `invalid arg '${arg}' for ${where}: ${why}`);
  };
  const integer = (arg: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = args[arg];
    if (raw === undefined) return undefined;
    const n = fieldInteger(raw);
    if (n === undefined) return invalid(arg, `{unacceptable_type,${typeName(raw)}}`);
    if (n < min) return invalid(arg, n < 0 ? `{value_negative,${n}}` : `{value_zero,${n}}`);
    if (n > max) return invalid(arg, `{value_too_large,${n}}`);
    return n;
  };
  const text = (arg: string): string | undefined => {
    const raw = args[arg];
    if (raw === undefined) return undefined;
    if (typeof raw === 'string') return raw;
    if (Buffer.isBuffer(raw)) return raw.toString('utf8');
    return invalid(arg, `{unacceptable_type,${typeName(raw)}}`);
  };

  const overflow = text('x-overflow') ?? 'drop-head';
  if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx') {
    invalid('x-overflow', `{unknown_overflow_type,<<"${overflow}">>}`);
  }
  const deadLetterExchange = text('x-dead-letter-exchange');
  const deadLetterRoutingKey = text('x-dead-letter-routing-key');
  if (deadLetterRoutingKey !== undefined && deadLetterExchange === undefined) {
    invalid('x-dead-letter-routing-key', '{routing_key_but_no_dlx_defined}');
  }
  // Dead letters are published with it as their routing key, which every protocol bounds at 255 octets (an
  // AMQP shortstr); a longer one could not be delivered, and a topic match walks it word by word.
  if (deadLetterRoutingKey !== undefined && Buffer.byteLength(deadLetterRoutingKey, 'utf8') > 255) {
    invalid('x-dead-letter-routing-key', '{routing_key_too_long}');
  }
  const queueType = text('x-queue-type');
  if (queueType !== undefined && queueType !== 'classic') {
    // Quorum and stream queues are different machines; claiming to be one would mislead clients.
    invalid('x-queue-type', `{unsupported_queue_type,<<"${queueType}">>}`);
  }
  const sac = args['x-single-active-consumer'];
  if (sac !== undefined && typeof sac !== 'boolean')
    invalid('x-single-active-consumer', `{unacceptable_type,${typeName(sac)}}`);

  return {
    messageTtl: integer('x-message-ttl', 0),
    expires: integer('x-expires', 1),
    maxLength: integer('x-max-length', 0),
    maxLengthBytes: integer('x-max-length-bytes', 0),
    overflow: overflow as Overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
    maxPriority: integer('x-max-priority', 0, 255) ?? 0,
    singleActiveConsumer: sac === true,
  };
}

/** Throws PRECONDITION_FAILED naming the first argument a re-declare disagrees on. */
export function checkEquivalentArguments(current: FieldTable, received: FieldTable, where: string): void {
  for (const arg of EQUIVALENT_ARGS) {
    const a = received[arg];
    const b = current[arg];
    if (a === undefined && b === undefined) continue;
    if (a !== undefined && b !== undefined && fieldValuesEqual(a, b)) continue;
    const got = a === undefined ? 'none' : `the value '${String(a)}' of type '${typeName(a)}'`;
    const had = b === undefined ? 'none' : `the value '${String(b)}' of type '${typeName(b)}'`;
    throw new WarrenError(
      'PRECONDITION_FAILED',
      `inequivalent arg '${arg}' for ${where}: received ${got} but current is ${had}`,
    );
  }
}

function typeName(v: FieldValue): string {
  if (v === null) return 'void';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'string') return 'longstr';
  if (typeof v === 'boolean') return 'bool';
  if (Buffer.isBuffer(v)) return 'binary';
  if (v instanceof Date) return 'timestamp';
  if (Array.isArray(v)) return 'array';
  return 'table';
}
