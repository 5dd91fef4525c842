import fc from 'fast-check';
import {
  canonicalJson,
  decodeProperties,
  decodeRecord,
  decodeValue,
  encodeProperties,
  encodeRecord,
  encodeValue,
  ValueCodecError,
} from '@warren/cluster';
import { Decimal } from '@warren/core';
import { fieldValue, properties, record } from './arbitraries';

describe('value codec', () => {
  test('every topology record round-trips exactly', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(decodeRecord(encodeRecord(r))).toStrictEqual(r);
      }),
    );
  });

  test('every field value round-trips exactly (bigint, Buffer, Date, Decimal, -0, NaN, $-keys, __proto__)', () => {
    fc.assert(
      fc.property(fieldValue, (v) => {
        expect(decodeValue(encodeValue(v))).toStrictEqual(v);
      }),
    );
  });

  test('message properties round-trip; absent stays absent', () => {
    fc.assert(
      fc.property(properties, (p) => {
        const back = decodeProperties(encodeProperties(p));
        expect(back).toStrictEqual(p);
        expect(Object.keys(back).sort()).toEqual(Object.keys(p).sort());
      }),
    );
  });

  test('the stored form is readable JSON', () => {
    const bytes = encodeRecord({
      kind: 'queue',
      vhost: '/',
      name: 'orders',
      durable: true,
      autoDelete: false,
      arguments: {
        'x-max-length': 10n,
        'x-queue-type': 'classic',
        $weird: Buffer.from('hi'),
        ratio: new Decimal(2, 150),
      },
    });
    expect(JSON.parse(bytes.toString())).toEqual({
      kind: 'queue',
      vhost: '/',
      name: 'orders',
      durable: true,
      autoDelete: false,
      arguments: {
        'x-max-length': { $n: '10' },
        'x-queue-type': 'classic',
        $$weird: { $b: 'aGk=' },
        ratio: { $m: [2, 150] },
      },
    });
  });

  test('a header called __proto__ is data, not a prototype', () => {
    const v = decodeValue(Buffer.from('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('canonical JSON ignores key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fieldValue, { maxKeys: 4, noNullPrototype: true }), (t) => {
        const reversed = Object.fromEntries(Object.entries(t).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(t));
      }),
    );
  });

  test.each([
    ['not JSON', 'nope'],
    ['an unknown tag', '{"$q": 1}'],
    ['a bad bigint', '{"$n": "1.5"}'],
    ['a bad float', '{"$f": "big"}'],
    ['a single-$ key beside others', '{"$b": "aGk=", "x": 1}'],
  ])('%s is refused', (_what, text) => {
    expect(() => decodeValue(Buffer.from(text))).toThrow(ValueCodecError);
  });

  test.each([
    ['an array', '[]'],
    ['no kind', '{"name": "x"}'],
    ['an unknown kind', '{"kind": "policy"}'],
  ])('a record that is %s is refused', (_what, text) => {
    expect(() => decodeRecord(Buffer.from(text))).toThrow(ValueCodecError);
  });
});
