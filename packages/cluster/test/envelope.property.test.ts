import fc from 'fast-check';
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeProperties,
  EnvelopeError,
  WARREN_PROPERTIES,
} from '@warren/cluster';
import { properties } from './arbitraries';

const shortstr = fc.string({ maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);

describe('envelope', () => {
  test('exchange, routing key, properties and body round-trip', () => {
    fc.assert(
      fc.property(
        shortstr,
        fc.string({ maxLength: 300 }),
        properties,
        fc.uint8Array({ maxLength: 2000 }),
        (x, rk, p, body) => {
          const e = decodeEnvelope(encodeEnvelope({ exchange: x, routingKey: rk, properties: p, body }));
          expect(e.exchange).toBe(x);
          expect(e.routingKey).toBe(rk);
          expect(e.propertiesFormat).toBe(WARREN_PROPERTIES);
          expect(envelopeProperties(e)).toStrictEqual(p);
          expect(Buffer.compare(e.body, Buffer.from(body))).toBe(0);
        },
      ),
    );
  });

  test("a protocol's raw property bytes round-trip under their format name", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (raw, body) => {
        const e = decodeEnvelope(
          encodeEnvelope({
            exchange: 'x',
            routingKey: 'k',
            properties: { format: 'amqp-0-9-1', bytes: raw },
            body,
          }),
        );
        expect(e.propertiesFormat).toBe('amqp-0-9-1');
        expect(Buffer.compare(e.properties, Buffer.from(raw))).toBe(0);
        expect(Buffer.compare(e.body, Buffer.from(body))).toBe(0);
        expect(() => envelopeProperties(e)).toThrow(EnvelopeError);
      }),
    );
  });

  test('decode returns views of the payload, not copies', () => {
    const payload = encodeEnvelope({
      exchange: 'x',
      routingKey: 'k',
      properties: {},
      body: Buffer.from('hello'),
    });
    const e = decodeEnvelope(payload);
    expect(e.body.buffer).toBe(payload.buffer);
    expect(e.body.byteOffset + e.body.length).toBe(payload.byteOffset + payload.length);
    payload[payload.length - 1] = 0x21;
    expect(e.body.toString()).toBe('hell!');
  });

  test('the layout is the one documented (fixture)', () => {
    const b = encodeEnvelope({
      exchange: 'ex',
      routingKey: 'rk',
      properties: { format: 'f', bytes: Buffer.from([9]) },
      body: Buffer.from('B'),
    });
    expect(b.toString('hex')).toBe(
      '574501' + '02' + '6578' + '0002' + '726b' + '01' + '66' + '00000001' + '09' + '42',
    );
  });

  test('every truncation of an envelope is refused, never misread', () => {
    fc.assert(
      fc.property(shortstr, shortstr, properties, fc.uint8Array({ maxLength: 20 }), (x, rk, p, body) => {
        const full = encodeEnvelope({ exchange: x, routingKey: rk, properties: p, body });
        const headerEnd = full.length - body.length;
        for (let cut = 0; cut < headerEnd; cut++) {
          expect(() => decodeEnvelope(full.subarray(0, cut))).toThrow(EnvelopeError);
        }
      }),
      { numRuns: 50 },
    );
  });

  test('random bytes never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeEnvelope(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(EnvelopeError);
        }
      }),
    );
  });

  test('an exchange name over 255 bytes is refused', () => {
    expect(() =>
      encodeEnvelope({ exchange: 'x'.repeat(256), routingKey: '', properties: {}, body: Buffer.alloc(0) }),
    ).toThrow(EnvelopeError);
  });
});
