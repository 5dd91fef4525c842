import fc from 'fast-check';
import { Decimal, WarrenError, type FieldValue } from '@warren/core';
import { MAX_FIELD_DEPTH, checkFieldTable, decodeFieldTableBuffer, encodeFieldTable } from '../src';
import { fieldTable } from './arbitraries';
import { hex } from './helpers';

/** A table holding one entry named "k" whose type code and value octets are `typeAndValue`. */
function oneEntry(typeAndValue: string): Buffer {
  const entry = hex(`016b${typeAndValue}`);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(entry.length);
  return Buffer.concat([len, entry]);
}

const TYPES: [string, string, FieldValue][] = [
  ['t boolean', '7401', true],
  ['t boolean false', '7400', false],
  ['b signed 8-bit', '62ff', -1],
  ['B unsigned 8-bit', '42ff', 255],
  ['s signed 16-bit (RabbitMQ)', '73fffe', -2],
  ['u unsigned 16-bit', '75fffe', 65534],
  ['I signed 32-bit', '49fffffffd', -3],
  ['i unsigned 32-bit', '69fffffffd', 4294967293],
  ['l signed 64-bit, safe', '6cfffffffffffffffc', -4],
  ['l signed 64-bit, beyond 2^53', '6c8000000000000000', -(2n ** 63n)],
  ['L unsigned 64-bit, safe', '4c0000000000000005', 5],
  ['L unsigned 64-bit, beyond 2^53', '4cffffffffffffffff', 2n ** 64n - 1n],
  ['f float', '663fc00000', 1.5],
  ['d double', '64400921fb54442d18', 3.141592653589793],
  ['D decimal', '440200003039', new Decimal(2, 12345)],
  ['S long string', '5300000003c3a962', 'éb'],
  ['x byte array', '780000000200ff', Buffer.from([0, 255])],
  ['A array', '410000000749010000007401', [16777216, true]],
  ['T timestamp', '540000000065538800', new Date(1699973120 * 1000)],
  ['F nested table', '4600000004016e4201', { n: 1 }],
  ['V void', '56', null],
];

describe('field table types', () => {
  it.each(TYPES)('decodes %s', (_name, bytes, value) => {
    expect(decodeFieldTableBuffer(oneEntry(bytes))).toEqual({ k: value });
  });

  it('encodes each JS kind with the type code RabbitMQ clients expect', () => {
    const cases: [FieldValue, string][] = [
      [true, '7401'],
      [7, '4900000007'],
      [-2147483648, '4980000000'],
      [2147483648, '6c0000000080000000'],
      [-(2 ** 40), '6cffffff0000000000'],
      [0.5, '643fe0000000000000'],
      [2n ** 63n - 1n, '6c7fffffffffffffff'],
      [2n ** 63n, '4c8000000000000000'],
      ['hi', '53000000026869'],
      [Buffer.from([1]), '780000000101'],
      [new Date(1699973120789), '540000000065538800'],
      [new Decimal(1, 5), '440100000005'],
      [null, '56'],
      [[1], '41000000054900000001'],
      [{}, '4600000000'],
    ];
    for (const [value, bytes] of cases) {
      expect(encodeFieldTable({ k: value }).toString('hex')).toBe(oneEntry(bytes).toString('hex'));
    }
  });

  it('skips undefined entries instead of inventing a value for them', () => {
    expect(encodeFieldTable({ a: 1, b: undefined as unknown as FieldValue })).toEqual(
      encodeFieldTable({ a: 1 }),
    );
  });

  it('keeps a "__proto__" key as data rather than a prototype', () => {
    const table = decodeFieldTableBuffer(protoTable());
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype);
    expect(Object.keys(table)).toEqual(['__proto__']);
  });

  it('round-trips any table of round-trippable values', () => {
    fc.assert(fc.property(fieldTable, (t) => expect(decodeFieldTableBuffer(encodeFieldTable(t))).toEqual(t)));
  });
});

function protoTable(): Buffer {
  const entry = Buffer.concat([Buffer.from([9]), Buffer.from('__proto__'), Buffer.from('V')]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(entry.length);
  return Buffer.concat([len, entry]);
}

describe('field table errors', () => {
  it('reports an unknown type code as SYNTAX_ERROR quoting the octets', () => {
    expect(() => decodeFieldTableBuffer(oneEntry('5a00'))).toThrow(
      expect.objectContaining({
        code: 'SYNTAX_ERROR',
        message: expect.stringContaining("unknown field type 'Z'"),
      }),
    );
  });

  it('reports a table cut at any octet as FRAME_ERROR', () => {
    const whole = encodeFieldTable({ a: 'text', b: [1, 2], c: { d: 1.5 } });
    for (let n = 0; n < whole.length; n++) {
      // The length prefix still claims the whole table, as it does when a peer lies or a frame is cut.
      expect(() => decodeFieldTableBuffer(whole.subarray(0, n))).toThrow(
        expect.objectContaining({ code: 'FRAME_ERROR' }),
      );
    }
  });

  it('reports an entry cut inside a table whose length matches as FRAME_ERROR', () => {
    const whole = encodeFieldTable({ a: 'text', b: [1, 2], c: { d: 1.5 } });
    for (const n of [6, 9, 12, 20]) {
      const cut = Buffer.from(whole.subarray(0, n));
      cut.writeUInt32BE(n - 4);
      expect(() => decodeFieldTableBuffer(cut)).toThrow(expect.objectContaining({ code: 'FRAME_ERROR' }));
    }
  });

  it('reports a nested value whose length runs past its table as FRAME_ERROR', () => {
    expect(() => decodeFieldTableBuffer(oneEntry('53000000ff41'))).toThrow(
      expect.objectContaining({ code: 'FRAME_ERROR' }),
    );
  });

  it(`refuses tables nested deeper than ${MAX_FIELD_DEPTH} levels both ways, without a stack overflow`, () => {
    let deep: FieldValue = {};
    for (let i = 0; i <= MAX_FIELD_DEPTH + 1; i++) deep = { n: deep };
    expect(() => encodeFieldTable(deep as { n: FieldValue })).toThrow(WarrenError);
    // Build the bytes by hand: F-in-F nesting, innermost empty.
    let bytes = Buffer.alloc(4);
    for (let i = 0; i <= MAX_FIELD_DEPTH + 1; i++) {
      const entry = Buffer.concat([Buffer.from([1, 0x6e, 0x46]), bytes]);
      bytes = Buffer.concat([Buffer.alloc(4), entry]);
      bytes.writeUInt32BE(entry.length);
    }
    expect(() => decodeFieldTableBuffer(bytes)).toThrow(expect.objectContaining({ code: 'SYNTAX_ERROR' }));
  });

  it('refuses a bigint that fits no 64-bit type', () => {
    expect(() => encodeFieldTable({ k: 2n ** 64n })).toThrow(
      expect.objectContaining({ code: 'SYNTAX_ERROR' }),
    );
  });

  it('never throws anything but a WarrenError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.concat([Buffer.alloc(4), Buffer.from(bytes)]);
        buf.writeUInt32BE(bytes.length);
        try {
          decodeFieldTableBuffer(buf);
        } catch (e) {
          expect(e).toBeInstanceOf(WarrenError);
        }
      }),
    );
  });
});

describe('timestamps past the range of a JavaScript Date', () => {
  test('are clamped to the latest Date, so a decoded table encodes again to a valid timestamp', () => {
    // Found by the field-table fuzzer: 'T' 0x0100000000000000 seconds decoded to an Invalid Date.
    const raw = Buffer.from([0, 0, 0, 11, 1, 0x74, 0x54, 1, 0, 0, 0, 0, 0, 0, 0]);
    const decoded = decodeFieldTableBuffer(raw);
    const t = decoded['t'] as Date;
    expect(Number.isNaN(t.getTime())).toBe(false);
    expect(t.getTime()).toBe(8.64e15);
    expect(decodeFieldTableBuffer(encodeFieldTable(decoded))).toEqual(decoded);
  });
});

describe('field names that are not UTF-8', () => {
  test('are refused by the door check and the decoder alike (they could not be encoded again)', () => {
    // One pair: name of 2 octets EF 80 (a cut-off UTF-8 sequence), type 't', true.
    const raw = Buffer.from([0, 0, 0, 5, 2, 0xef, 0x80, 0x74, 1]);
    expect(() => decodeFieldTableBuffer(raw)).toThrow(/field name is not UTF-8/);
    expect(() => checkFieldTable(raw, 4, raw.length)).toThrow(/field name is not UTF-8/);
    const ok = Buffer.from([0, 0, 0, 6, 3, 0xc3, 0xa9, 0x65, 0x74, 1]); // "ée"
    expect(Object.keys(decodeFieldTableBuffer(ok))).toEqual(['ée']);
  });
});
