/**
 * AMQP inputs for the fuzzers: a client's handshake, random but well-typed methods drawn from the codec's own
 * method table (so every method the broker knows is exercised, with the field types the spec gives), messages
 * with random properties, and raw garbage, all turned into frame bytes. The names come from small sets so that
 * random sequences do meet: a declare, then a bind, a publish and a consume on the same queue.
 */
import fc from 'fast-check';
import {
  BASIC_PUBLISH,
  CHANNEL_CLOSE_OK,
  CHANNEL_OPEN,
  CONNECTION_OPEN,
  CONNECTION_START_OK,
  CONNECTION_TUNE_OK,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FrameWriter,
  METHODS,
  PROTOCOL_HEADER,
  encodeProperties,
  writeContentHeader,
  contentHeaderSize,
  type FieldInfo,
  type Method,
  type MethodInfo,
} from '@warren/amqp';
import { Decimal, type FieldTable, type FieldValue, type MessageProperties } from '@warren/core';
import { CONTROL_QUEUE } from './names';

export const FUZZ_FRAME_MAX = 131072;

const QUEUES = ['q1', 'q2', '', 'amq.gen-x', 'amq.rabbitmq.reply-to', CONTROL_QUEUE, 'dlq', 'a'.repeat(255)];
const EXCHANGES = ['', 'amq.direct', 'amq.topic', 'amq.fanout', 'amq.headers', 'x1', 'x2', 'amq.nope', 'dlx'];
const KEYS = ['', 'q1', 'q2', 'a.b', '#', '*.b', 'a.#.#.b', CONTROL_QUEUE, 'dlq'];
const TYPES = ['direct', 'topic', 'fanout', 'headers', 'x-consistent-hash', 'bogus'];
const ARG_NAMES = [
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
  'x-match',
  'x-priority',
  'alternate-exchange',
  'plain',
];

const scalar: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.integer({ min: -5, max: 70 }),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.boolean(),
  fc.constantFrom('drop-head', 'reject-publish', 'reject-publish-dlx', 'all', 'any', 'dlx', 'classic', ''),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
  fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)),
  fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat()).map(([p, v]) => new Decimal(p, v)),
);

const { value: fieldValue } = fc.letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    tie('table'),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
  table: fc.dictionary(fc.constantFrom(...ARG_NAMES, 'k', 'x-death'), tie('value'), { maxKeys: 4 }),
}));

export const fieldTable: fc.Arbitrary<FieldTable> = fc.dictionary(fc.constantFrom(...ARG_NAMES), fieldValue, {
  maxKeys: 4,
});

function shortstr(domain: string, name: string): fc.Arbitrary<string> {
  if (domain === 'queue-name') return fc.constantFrom(...QUEUES);
  if (domain === 'exchange-name') return fc.constantFrom(...EXCHANGES);
  if (name === 'type') return fc.constantFrom(...TYPES);
  if (name === 'routing-key') return fc.constantFrom(...KEYS);
  if (domain === 'consumer-tag') return fc.constantFrom('', 'c1', 'c2');
  if (domain === 'path') return fc.constantFrom('/', '', 'nope');
  return fc.string({ maxLength: 12 });
}

function fieldArbitrary(f: FieldInfo): fc.Arbitrary<unknown> {
  switch (f.type) {
    case 'bit':
      return fc.boolean();
    case 'octet':
      return fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }));
    case 'short':
      return fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 65535 }));
    case 'long':
      return fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 0xffffffff }));
    case 'longlong':
    case 'timestamp':
      // delivery tags: mostly the few that exist, sometimes one that does not.
      return fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
    case 'shortstr':
      return shortstr(f.domain, f.name);
    case 'longstr':
      return fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b));
    case 'table':
      return fieldTable;
  }
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** A method of `info` with random fields of the right types. */
function methodOf(info: MethodInfo): fc.Arbitrary<Method> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of info.fields) fields[camel(f.name)] = fieldArbitrary(f);
  return fc.record(fields).map((values) => ({ id: info.id, ...values }) as unknown as Method);
}

/** Client methods a session would send on channels (and a few it should never send, at a lower rate). */
const CHANNEL_METHODS = METHODS.filter((m) => m.classId !== 10);
const CONNECTION_METHODS = METHODS.filter((m) => m.classId === 10);

export const anyMethod: fc.Arbitrary<Method> = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...CHANNEL_METHODS).chain(methodOf) },
  { weight: 1, arbitrary: fc.constantFrom(...CONNECTION_METHODS).chain(methodOf) },
);

export const properties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    contentType: fc.constantFrom('text/plain', 'application/json'),
    headers: fieldTable,
    deliveryMode: fc.constantFrom(1, 2, 0, 7),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: fc.string({ maxLength: 8 }),
    replyTo: fc.constantFrom('q1', 'amq.rabbitmq.reply-to', ''),
    expiration: fc.constantFrom('0', '1', '60000', '-1', 'soon', ''),
    messageId: fc.string({ maxLength: 8 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
    type: fc.string({ maxLength: 8 }),
    userId: fc.constantFrom('guest', 'someone-else'),
    appId: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: [] },
);

/** One step a fuzzed client takes. Channels are mostly 1-3, sometimes ones it never opened. */
export type AmqpStep =
  | { kind: 'method'; channel: number; method: Method }
  | {
      kind: 'publish';
      channel: number;
      exchange: string;
      routingKey: string;
      props: MessageProperties | Buffer;
      body: Buffer;
      splitAt: number[];
    }
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'heartbeat' }
  /** channel.close-ok then channel.open: how a client gets a channel back after a channel error. */
  | { kind: 'reopen'; channel: number };

const channelNo = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 3 }) },
  fc.constantFrom(0, 4, 65535),
);

export const amqpStep: fc.Arbitrary<AmqpStep> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('method' as const),
      channel: fc.integer({ min: 1, max: 3 }),
      method: fc.constant({ id: CHANNEL_OPEN, outOfBand: '' } as Method),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('method' as const), channel: channelNo, method: anyMethod }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      channel: channelNo,
      exchange: fc.oneof(fc.constantFrom('', 'amq.topic', 'amq.headers'), fc.constantFrom(...EXCHANGES)),
      routingKey: fc.oneof(fc.constantFrom('a.b', 'q1', CONTROL_QUEUE), fc.constantFrom(...KEYS)),
      props: fc.oneof(
        { weight: 5, arbitrary: properties },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)) },
      ),
      body: fc
        .oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 4000, maxLength: 9000 }))
        .map((b) => Buffer.from(b)),
      splitAt: fc.array(fc.nat(), { maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      bytes: fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'heartbeat' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('reopen' as const), channel: fc.integer({ min: 1, max: 3 }) }),
  },
);

const writer = new FrameWriter(FUZZ_FRAME_MAX);

function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(7);
  head[0] = type;
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([0xce])]);
}

/** The bytes of a method, or of a deliberately broken frame when the method cannot be encoded (a value out of range). */
function methodBytes(channel: number, m: Method): Buffer {
  try {
    return writer.method(channel, m);
  } catch {
    // Some random values do not fit their field (a 300-octet shortstr): send the frame cut short instead.
    return frame(
      FRAME_METHOD,
      channel,
      Buffer.from([m.id >>> 24, (m.id >>> 16) & 0xff, (m.id >>> 8) & 0xff, m.id & 0xff]),
    );
  }
}

/** The wire bytes of one step. */
export function stepBytes(step: AmqpStep): Buffer {
  switch (step.kind) {
    case 'method':
      return methodBytes(step.channel, step.method);
    case 'heartbeat':
      return frame(FRAME_HEARTBEAT, 0, Buffer.alloc(0));
    case 'reopen':
      return Buffer.concat([
        writer.method(step.channel, { id: CHANNEL_CLOSE_OK }),
        writer.method(step.channel, { id: CHANNEL_OPEN, outOfBand: '' }),
      ]);
    case 'raw':
      return step.bytes;
    case 'publish': {
      const parts: Buffer[] = [
        methodBytes(step.channel, {
          id: BASIC_PUBLISH,
          ticket: 0,
          exchange: step.exchange,
          routingKey: step.routingKey,
          mandatory: step.splitAt.length > 1,
          immediate: false,
        }),
      ];
      let raw: Buffer;
      try {
        raw = Buffer.isBuffer(step.props) ? step.props : encodeProperties(step.props);
      } catch {
        raw = Buffer.from([0, 0]);
      }
      const header = Buffer.allocUnsafe(contentHeaderSize(raw));
      writeContentHeader(header, 0, 60, step.body.length, raw);
      parts.push(frame(FRAME_HEADER, step.channel, header));
      // The body in as many frames as splitAt asks for.
      let off = 0;
      for (const cut of [...step.splitAt.map((c) => c % (step.body.length + 1)), step.body.length].sort(
        (a, b) => a - b,
      )) {
        if (cut > off) parts.push(frame(FRAME_BODY, step.channel, step.body.subarray(off, cut)));
        off = Math.max(off, cut);
      }
      return Buffer.concat(parts);
    }
  }
}

/**
 * What a client sends before its first method: header, start-ok, tune-ok, open (pipelined, as clients may), and
 * channels 1-3 opened, so that random steps reach the methods behind a handshake instead of a channel error.
 */
export function handshakeBytes(heartbeat = 0): Buffer {
  return Buffer.concat([
    PROTOCOL_HEADER,
    writer.method(0, {
      id: CONNECTION_START_OK,
      clientProperties: {
        product: 'fuzz',
        capabilities: { consumer_cancel_notify: true, 'connection.blocked': true },
      },
      mechanism: 'PLAIN',
      response: Buffer.from('\0guest\0guest'),
      locale: 'en_US',
    }),
    writer.method(0, { id: CONNECTION_TUNE_OK, channelMax: 2047, frameMax: FUZZ_FRAME_MAX, heartbeat }),
    writer.method(0, { id: CONNECTION_OPEN, virtualHost: '/', capabilities: '', insist: false }),
    ...[1, 2, 3].map((ch) => writer.method(ch, { id: CHANNEL_OPEN, outOfBand: '' })),
  ]);
}

/** Cuts `bytes` at the given points (taken modulo its length): how a socket may hand them over. */
export function cutAt(bytes: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => (bytes.length === 0 ? 0 : p % bytes.length)))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let off = 0;
  for (const c of cuts) {
    if (c > off) out.push(bytes.subarray(off, c));
    off = Math.max(off, c);
  }
  if (off < bytes.length || out.length === 0) out.push(bytes.subarray(off));
  return out;
}
