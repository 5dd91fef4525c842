import fc from 'fast-check';
import {
  Decimal,
  type FieldTable,
  type FieldValue,
  type MessageProperties,
  type TopologyRecord,
} from '@warren/core';

/** Names as clients send them: any well-formed Unicode, with the characters subjects and keys care about. */
export const name: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom(
      '.',
      '*',
      '>',
      ' ',
      '/',
      '_',
      '-',
      '$',
      '~',
      '=',
      'a',
      'Z',
      '0',
      '\u0000',
      'é',
      '🐇',
    ),
    maxLength: 10,
  }),
  fc.constantFrom('', '/', 'amq.topic', 'amq.gen-XYZ', '>', '*', '.', '_', '_2e'),
);

export const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ v: FieldValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
    fc.date({ noInvalidDate: true }),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer()).map(([p, v]) => new Decimal(p, v)),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('$b', '$$n', '$', '__proto__')),
      tie('v'),
      {
        maxKeys: 3,
        noNullPrototype: true,
      },
    ) as fc.Arbitrary<FieldTable>,
  ),
})).v;

export const table = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('$f', 'x-match')),
  fieldValue,
  {
    maxKeys: 3,
    noNullPrototype: true,
  },
) as fc.Arbitrary<FieldTable>;

export const record: fc.Arbitrary<TopologyRecord> = fc.oneof(
  fc.record({ kind: fc.constant('vhost' as const), name }, { noNullPrototype: true }),
  fc.record(
    {
      kind: fc.constant('vhost' as const),
      name,
      description: fc.string(),
      tags: fc.array(fc.string(), { maxLength: 2 }),
      defaultQueueType: fc.constantFrom('classic', 'quorum'),
    },
    { requiredKeys: ['kind', 'name'], noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('user' as const),
      name,
      passwordHash: fc.base64String(),
      hashingAlgorithm: fc.constant('rabbit_password_hashing_sha256'),
      tags: fc.array(fc.string(), { maxLength: 2 }),
    },
    { requiredKeys: ['kind', 'name', 'passwordHash', 'tags'], noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('permission' as const),
      user: name,
      vhost: name,
      configure: fc.string(),
      write: fc.string(),
      read: fc.string(),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('topic-permission' as const),
      user: name,
      vhost: name,
      exchange: name,
      write: fc.string(),
      read: fc.string(),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('exchange' as const),
      vhost: name,
      name,
      type: fc.constantFrom('direct', 'topic', 'fanout', 'headers'),
      durable: fc.constant(true as const),
      autoDelete: fc.boolean(),
      internal: fc.boolean(),
      arguments: table,
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('queue' as const),
      vhost: name,
      name,
      durable: fc.constant(true as const),
      autoDelete: fc.boolean(),
      arguments: table,
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('stream-chunk' as const),
      vhost: name,
      name,
      offset: fc.maxSafeNat(),
      id: fc.maxSafeNat(),
      timestamp: fc.maxSafeNat(),
      segment: fc.boolean(),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      kind: fc.constant('binding' as const),
      vhost: name,
      source: name,
      destination: name,
      destinationKind: fc.constantFrom('queue' as const, 'exchange' as const),
      routingKey: name,
      arguments: table,
    },
    { noNullPrototype: true },
  ),
);

export const properties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    contentType: fc.string(),
    contentEncoding: fc.string(),
    headers: table,
    deliveryMode: fc.constantFrom(1, 2),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: fc.string(),
    replyTo: fc.string(),
    expiration: fc.nat().map(String),
    messageId: fc.string(),
    timestamp: fc.nat(),
    type: fc.string(),
    userId: fc.string(),
    appId: fc.string(),
    clusterId: fc.string(),
  },
  { requiredKeys: [], noNullPrototype: true },
);
