/*
 * Tagged values: message properties, topology records and the field tables inside them.
 *
 *   value := 0x00                       null
 *          | 0x01 | 0x02                false | true
 *          | 0x03 f64                   number (exact, -0 and NaN included)
 *          | 0x04 str                   bigint, decimal text (AMQP's 64-bit integers, any width)
 *          | 0x05 str                   string
 *          | 0x06 len:u32 bytes         Buffer
 *          | 0x07 f64                   Date, milliseconds since the epoch
 *          | 0x08 places:u8 f64         Decimal
 *          | 0x09 count:u32 value*      array
 *          | 0x0a count:u32 (str value)* plain object; keys whose value is undefined are left out, as an absent
 *                                       property is undefined in the core, never null
 */
import { Decimal } from '@warren/core';
import type { BatchWriter, ByteReader } from './batch-writer';

/** What the codec round-trips: FieldValue plus the plain objects (records, properties) that hold them. */
export type StoredValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | Decimal
  | StoredValue[]
  | { [key: string]: StoredValue | undefined };

const MAX_DEPTH = 64;

export function writeValue(w: BatchWriter, v: StoredValue | undefined, depth = 0): void {
  if (depth > MAX_DEPTH) throw new RangeError('value nested too deeply to store');
  if (v === null || v === undefined) return w.u8(0);
  switch (typeof v) {
    case 'boolean':
      return w.u8(v ? 2 : 1);
    case 'number':
      w.u8(3);
      return w.f64(v);
    case 'bigint':
      w.u8(4);
      return w.str(v.toString());
    case 'string':
      w.u8(5);
      return w.str(v);
    case 'object':
      break;
    default:
      throw new TypeError(`cannot store a ${typeof v}`);
  }
  if (Buffer.isBuffer(v)) {
    w.u8(6);
    return w.bytes(v);
  }
  if (v instanceof Date) {
    w.u8(7);
    return w.f64(v.getTime());
  }
  if (v instanceof Decimal) {
    w.u8(8);
    w.u8(v.places);
    return w.f64(v.value);
  }
  if (Array.isArray(v)) {
    w.u8(9);
    w.u32(v.length);
    for (const x of v) writeValue(w, x, depth + 1);
    return;
  }
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  w.u8(10);
  w.u32(keys.length);
  for (const k of keys) {
    w.str(k);
    writeValue(w, v[k], depth + 1);
  }
}

export function readValue(r: ByteReader, depth = 0): StoredValue {
  if (depth > MAX_DEPTH) throw new RangeError('stored value nested too deeply');
  const tag = r.u8();
  switch (tag) {
    case 0:
      return null;
    case 1:
      return false;
    case 2:
      return true;
    case 3:
      return r.f64();
    case 4:
      return BigInt(r.str());
    case 5:
      return r.str();
    case 6:
      return r.bytes(r.u32());
    case 7:
      return new Date(r.f64());
    case 8: {
      const places = r.u8();
      return new Decimal(places, r.f64());
    }
    case 9: {
      const n = r.u32();
      const out: StoredValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case 10: {
      const n = r.u32();
      const out: { [key: string]: StoredValue } = {};
      for (let i = 0; i < n; i++) {
        const k = r.str();
        const v = readValue(r, depth + 1);
        // A header named __proto__ is data, not a prototype change.
        if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true });
        else out[k] = v;
      }
      return out;
    }
    default:
      throw new RangeError(`unknown value tag ${tag}`);
  }
}
