import fc from 'fast-check';
import { Decimal, type FieldTable, type FieldValue, type MessageProperties } from '@warren/core';

/** A field name: a short string of at most 255 UTF-8 octets. */
export const fieldName = fc.string({ maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);

/** Short strings as the codec accepts them. */
export const shortstr = fc.string({ maxLength: 60 }).filter((s) => Buffer.byteLength(s) <= 255);

/**
 * Values that survive encode -> decode unchanged: numbers that stay numbers (safe integers, non-integers),
 * bigints that stay bigints (outside the safe range), whole-second dates.
 */
const scalar: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double().filter((d) => !Object.is(d, -0) && !(Number.isInteger(d) && !Number.isSafeInteger(d))),
  fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  ),
  fc.string({ maxLength: 30 }),
  fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => new Date(s * 1000)),
  fc
    .record({ places: fc.integer({ min: 0, max: 255 }), value: fc.nat({ max: 0xffffffff }) })
    .map(({ places, value }) => new Decimal(places, value)),
);

/** Bounded in depth (maxDepth) so a run never builds a structure that takes minutes to compare. */
export const { value: fieldValue, table: fieldTable } = fc.letrec<{ value: FieldValue; table: FieldTable }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 3, depthIdentifier: 'field-value', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4, depthIdentifier: 'field-value' }),
      tie('table'),
    ),
    table: fc.dictionary(fieldName, tie('value'), { maxKeys: 5, depthIdentifier: 'field-value' }),
  }),
);

const octet = fc.integer({ min: 0, max: 255 });

export const messageProperties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    contentType: shortstr,
    contentEncoding: shortstr,
    headers: fieldTable,
    deliveryMode: octet,
    priority: octet,
    correlationId: shortstr,
    replyTo: shortstr,
    expiration: shortstr,
    messageId: shortstr,
    timestamp: fc.maxSafeNat(),
    type: shortstr,
    userId: shortstr,
    appId: shortstr,
    clusterId: shortstr,
  },
  { requiredKeys: [] },
);
