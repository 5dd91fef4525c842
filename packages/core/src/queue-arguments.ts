import { describe, WarrenError } from './errors';
import { fieldInteger, fieldValuesEqual, type FieldTable, type FieldValue } from './field-table';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/**
 * RabbitMQ's three queue types. A classic queue is Warren's Queue; a quorum queue is the same machine held to
 * a quorum queue's rules (durable, every message kept, x-delivery-limit); a stream is an append-only log
 * (StreamQueue). On one node none is replicated; in a cluster they are the replicated queues.
 */
export type QueueType = 'classic' | 'quorum' | 'stream';

/** The arguments the core acts on, validated once at declare. */
export interface QueueSettings {
  type: QueueType;
  messageTtl: number | undefined;
  expires: number | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  maxPriority: number;
  singleActiveConsumer: boolean;
  /** Quorum: deliveries a message may have; the next return dead-letters it (reason delivery_limit). */
  deliveryLimit: number | undefined;
  /** Stream: ms a segment is kept after its last message (x-max-age). */
  maxAge: number | undefined;
  /** Stream: bytes per segment, the unit retention removes (x-stream-max-segment-size-bytes). */
  maxSegmentSizeBytes: number | undefined;
}

/**
 * Per queue type, the arguments it takes: RabbitMQ 3.10's `queue_arguments` capability of each type. An
 * argument some type takes but this one does not is refused ("invalid arg ... of queue type ..."); an argument
 * no type knows is accepted and ignored, as RabbitMQ does, so client libraries that send extras keep working.
 */
const TYPE_ARGUMENTS: Record<QueueType, readonly string[]> = {
  classic: [
    'x-expires',
    'x-message-ttl',
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-priority',
    'x-overflow',
    'x-queue-mode',
    'x-queue-version',
    'x-single-active-consumer',
    'x-queue-type',
    'x-queue-master-locator',
  ],
  quorum: [
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-dead-letter-strategy',
    'x-expires',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-in-memory-length',
    'x-max-in-memory-bytes',
    'x-overflow',
    'x-single-active-consumer',
    'x-queue-type',
    'x-quorum-initial-group-size',
    'x-delivery-limit',
    'x-message-ttl',
    'x-queue-leader-locator',
  ],
  stream: [
    'x-max-length-bytes',
    'x-queue-type',
    'x-max-age',
    'x-stream-max-segment-size-bytes',
    'x-initial-cluster-size',
    'x-queue-leader-locator',
  ],
};
const KNOWN_ARGUMENTS = new Set(Object.values(TYPE_ARGUMENTS).flat());

/** RabbitMQ's module names, which its messages show ("... of queue type rabbit_quorum_queue"). */
export const QUEUE_TYPE_MODULE: Record<QueueType, string> = {
  classic: 'rabbit_classic_queue',
  quorum: 'rabbit_quorum_queue',
  stream: 'rabbit_stream_queue',
};

/** A stream segment may not be larger than this (RabbitMQ's MAX_STREAM_MAX_SEGMENT_SIZE, 3 GB). */
const MAX_SEGMENT_SIZE_BYTES = 3_000_000_000;
/** The segment size of a stream that does not name one (RabbitMQ's default, 500 MB). */
export const DEFAULT_SEGMENT_SIZE_BYTES = 500_000_000;

/** Arguments whose values must match on re-declare (RabbitMQ's equivalence check). */
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
  'x-delivery-limit',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
] as const;

/** The queue type an argument table asks for; classic when it names none. Does not validate. */
export function queueTypeOf(args: FieldTable): string {
  const raw = args['x-queue-type'];
  if (typeof raw === 'string') return raw;
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  return 'classic';
}

/** What a declare says about the queue besides its arguments; the type rules look at it. */
export interface QueueShape {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
}

export function parseQueueArguments(
  args: FieldTable,
  queue: string,
  vhost: string,
  shape: QueueShape = { durable: true, exclusive: false, autoDelete: false },
): QueueSettings {
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

  const type = text('x-queue-type') ?? 'classic';
  if (type !== 'classic' && type !== 'quorum' && type !== 'stream') {
    invalid('x-queue-type', `"unsupported queue type '${type}'"`);
  }
  const queueType = type as QueueType;
  const allowed = TYPE_ARGUMENTS[queueType];
  for (const arg of Object.keys(args)) {
    if (KNOWN_ARGUMENTS.has(arg) && !allowed.includes(arg)) {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `invalid arg '${arg}' for ${where} of queue type ${QUEUE_TYPE_MODULE[queueType]}`,
      );
    }
  }

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
  const strategy = text('x-dead-letter-strategy');
  if (strategy !== undefined && strategy !== 'at-most-once' && strategy !== 'at-least-once') {
    invalid('x-dead-letter-strategy', 'invalid_dlx_strategy');
  }
  const sac = args['x-single-active-consumer'];
  if (sac !== undefined && typeof sac !== 'boolean')
    invalid('x-single-active-consumer', `{unacceptable_type,${typeName(sac)}}`);
  const maxAgeText = text('x-max-age');
  const maxAge = maxAgeText === undefined ? undefined : parseMaxAge(maxAgeText);
  if (maxAge === null) invalid('x-max-age', 'invalid_max_age');
  const maxSegmentSizeBytes = integer('x-stream-max-segment-size-bytes', 0);
  integer('x-quorum-initial-group-size', 1);
  integer('x-initial-cluster-size', 1);

  const settings: QueueSettings = {
    type: queueType,
    messageTtl: integer('x-message-ttl', 0),
    expires: integer('x-expires', 1),
    maxLength: integer('x-max-length', 0),
    maxLengthBytes: integer('x-max-length-bytes', 0),
    overflow: overflow as Overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
    maxPriority: integer('x-max-priority', 0, 255) ?? 0,
    singleActiveConsumer: sac === true,
    deliveryLimit: integer('x-delivery-limit', 0),
    maxAge: maxAge ?? undefined,
    maxSegmentSizeBytes,
  };

  if (queueType !== 'classic') {
    // RabbitMQ's rabbit_queue_type_util checks, in its order, for both replicated types.
    const property = shape.autoDelete
      ? 'auto-delete'
      : shape.exclusive
        ? 'exclusive-owner'
        : !shape.durable
          ? 'non-durable'
          : undefined;
    if (property !== undefined) {
      throw new WarrenError('PRECONDITION_FAILED', `invalid property '${property}' for ${where}`);
    }
    if (maxSegmentSizeBytes !== undefined && maxSegmentSizeBytes > MAX_SEGMENT_SIZE_BYTES) {
      throw new WarrenError('PRECONDITION_FAILED', 'Exceeded max value for x-stream-max-segment-size-bytes');
    }
  }
  return settings;
}

/**
 * x-max-age (also a relative x-stream-offset): a positive integer and one of RabbitMQ's units, Y M D h m s.
 * Null for anything else.
 */
export function parseMaxAge(value: string): number | null {
  const m = /^([0-9]+)([YMDhms])$/.exec(value);
  if (m === null) return null;
  const n = Number(m[1]);
  if (n <= 0) return null;
  const unit = m[2] as 'Y' | 'M' | 'D' | 'h' | 'm' | 's';
  const day = 86_400_000;
  const ms = { Y: 365 * day, M: 30 * day, D: day, h: 3_600_000, m: 60_000, s: 1000 }[unit];
  return n * ms;
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
