/**
 * AMQP field tables with RabbitMQ's type codes (AMQP 0-9-1 section 4.2.5.5 and RabbitMQ's errata, which is
 * what every client library actually speaks).
 *
 *   field-table   = long-uint *field-value-pair        ; length in octets, then the pairs
 *   field-value-pair = field-name field-value
 *   field-name    = short-string
 *   field-array   = long-int *field-value             ; length in octets, then typed values
 *   field-value   = 't' boolean-octet                  ; 0 = false, anything else = true
 *                 | 'b' short-short-int  | 'B' short-short-uint
 *                 | 's' short-int        | 'u' short-uint      ; RabbitMQ: 's' is signed 16-bit
 *                 | 'I' long-int         | 'i' long-uint
 *                 | 'l' long-long-int    | 'L' long-long-uint
 *                 | 'f' float            | 'd' double
 *                 | 'D' decimal-value    ; scale octet, then long-uint
 *                 | 'S' long-string      | 'x' byte-array      ; both long-uint length + octets
 *                 | 'A' field-array      | 'T' timestamp       ; u64 POSIX seconds
 *                 | 'F' field-table      | 'V'                 ; void, no value
 *
 * Decoding: 'l'/'L' give a number when it is a safe integer, else a bigint; 'S' a string; 'x' a Buffer
 * (copied); 'T' a Date; 'D' a Decimal; 'V' null. Encoding picks the type from the JS value: integer numbers
 * 'I' when they fit 32 bits else 'l', other numbers 'd', bigint 'l' (or 'L' above 2^63), boolean 't',
 * string 'S', Buffer 'x', Date 'T', Decimal 'D', null 'V', arrays 'A', plain objects 'F'.
 */
import { isUtf8 } from 'node:buffer';
import { Decimal, WarrenError, type FieldTable, type FieldValue } from '@warren/core';
import { cannotDecode, hexSnippet, longstrEnd, shortstrSize, writeShortstr } from './primitives';

/**
 * Nesting bound for tables and arrays. RabbitMQ sets none, but recursion on attacker-chosen depth would end in
 * a RangeError (stack overflow); real headers (x-death) nest three levels deep.
 */
export const MAX_FIELD_DEPTH = 64;

const TWO_32 = 4294967296;
/** The latest instant a JavaScript Date can hold (ECMA-262 21.4.1.1). */
const MAX_DATE_MS = 8.64e15;
const INT64_MIN = -(2n ** 63n);
const UINT64_LIMIT = 2n ** 64n;
const INT64_LIMIT = 2n ** 63n;

const WHAT = 'field table';

function tooDeep(): never {
  throw new WarrenError('SYNTAX_ERROR', `field table nested deeper than ${MAX_FIELD_DEPTH} levels`);
}

/**
 * Octets taken by the value of type `type` starting at `p` (after the type code). This is the one place that
 * knows the widths, so skipping a table (for the properties fast path) and decoding it agree by construction.
 */
export function fieldValueEnd(buf: Buffer, p: number, end: number, type: number): number {
  let n: number;
  switch (type) {
    case 0x56 /* V */:
      return p;
    case 0x74 /* t */:
    case 0x62 /* b */:
    case 0x42 /* B */:
      n = 1;
      break;
    case 0x73 /* s */:
    case 0x75 /* u */:
      n = 2;
      break;
    case 0x49 /* I */:
    case 0x69 /* i */:
    case 0x66 /* f */:
      n = 4;
      break;
    case 0x44 /* D */:
      n = 5;
      break;
    case 0x6c /* l */:
    case 0x4c /* L */:
    case 0x64 /* d */:
    case 0x54 /* T */:
      n = 8;
      break;
    case 0x53 /* S */:
    case 0x78 /* x */:
    case 0x41 /* A */:
    case 0x46 /* F */:
      return longstrEnd(buf, p, end, WHAT);
    default:
      throw new WarrenError(
        'SYNTAX_ERROR',
        `unknown field type '${String.fromCharCode(type)}' (0x${type.toString(16)}) in ${WHAT} at ${hexSnippet(buf, p - 1, end)}`,
      );
  }
  if (p + n > end) cannotDecode(WHAT, buf, p, end);
  return p + n;
}

function int64(hi: number, lo: number, buf: Buffer, p: number, signed: boolean): number | bigint {
  // Exact whenever the result is a safe integer; otherwise fall back to the (slower) bigint read.
  const v = hi * TWO_32 + lo;
  if (Number.isSafeInteger(v)) return v;
  return signed ? buf.readBigInt64BE(p) : buf.readBigUInt64BE(p);
}

/** Decodes the value of type `type` occupying exactly [p, q) (bounds already checked by fieldValueEnd). */
function readFieldValue(buf: Buffer, p: number, q: number, type: number, depth: number): FieldValue {
  switch (type) {
    case 0x74 /* t */:
      return buf[p] !== 0;
    case 0x62 /* b */:
      return buf.readInt8(p);
    case 0x42 /* B */:
      return buf.readUInt8(p);
    case 0x73 /* s */:
      return buf.readInt16BE(p);
    case 0x75 /* u */:
      return buf.readUInt16BE(p);
    case 0x49 /* I */:
      return buf.readInt32BE(p);
    case 0x69 /* i */:
      return buf.readUInt32BE(p);
    case 0x6c /* l */:
      return int64(buf.readInt32BE(p), buf.readUInt32BE(p + 4), buf, p, true);
    case 0x4c /* L */:
      return int64(buf.readUInt32BE(p), buf.readUInt32BE(p + 4), buf, p, false);
    case 0x66 /* f */:
      return buf.readFloatBE(p);
    case 0x64 /* d */:
      return buf.readDoubleBE(p);
    case 0x44 /* D */:
      return new Decimal(buf.readUInt8(p), buf.readUInt32BE(p + 1));
    case 0x54 /* T */:
      // A Date holds at most 8.64e15 ms (year 275760): a later timestamp is clamped to it, so that the value
      // re-encodes as a valid timestamp (an Invalid Date would be written as garbage). Found by the fuzzer.
      return new Date(Math.min((buf.readUInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4)) * 1000, MAX_DATE_MS));
    case 0x53 /* S */:
      return buf.toString('utf8', p + 4, q);
    case 0x78 /* x */:
      // A copy: a decoded header must not pin the socket chunk it arrived in.
      return Buffer.from(buf.subarray(p + 4, q));
    case 0x41 /* A */:
      return decodeFieldArray(buf, p + 4, q, depth + 1);
    case 0x46 /* F */:
      return decodeFieldTable(buf, p + 4, q, depth + 1);
    default: // 'V'; fieldValueEnd has already rejected unknown codes
      return null;
  }
}

function decodeFieldArray(buf: Buffer, p: number, end: number, depth: number): FieldValue[] {
  if (depth > MAX_FIELD_DEPTH) tooDeep();
  const out: FieldValue[] = [];
  while (p < end) {
    const type = buf[p] as number;
    const q = fieldValueEnd(buf, p + 1, end, type);
    out.push(readFieldValue(buf, p + 1, q, type, depth));
    p = q;
  }
  return out;
}

/**
 * Checks that [p, end) holds well-formed table pairs (a table's contents, after its length prefix) without
 * decoding them: every type code known, every length inside its parent, nesting within MAX_FIELD_DEPTH. Nothing
 * is allocated, so it runs on every publish that carries headers; a table that passes decodes without error
 * (decodeFieldTable fails only on exactly these conditions), which is what lets the broker decode headers
 * lazily, long after the publisher is gone (DESIGN §4b, "validate at the door").
 */
export function checkFieldTable(buf: Buffer, p: number, end: number, depth = 0): void {
  if (depth > MAX_FIELD_DEPTH) tooDeep();
  while (p < end) {
    const nameEnd = p + 1 + (buf[p] as number);
    if (nameEnd >= end) cannotDecode(WHAT, buf, p, end);
    checkName(buf, p + 1, nameEnd);
    p = checkFieldValue(buf, nameEnd + 1, end, buf[nameEnd] as number, depth);
  }
}

function checkFieldArray(buf: Buffer, p: number, end: number, depth: number): void {
  if (depth > MAX_FIELD_DEPTH) tooDeep();
  while (p < end) p = checkFieldValue(buf, p + 1, end, buf[p] as number, depth);
}

/** The end of one value starting at `p` (after its type code), its nested tables and arrays checked too. */
function checkFieldValue(buf: Buffer, p: number, end: number, type: number, depth: number): number {
  const q = fieldValueEnd(buf, p, end, type);
  if (type === 0x46 /* F */) checkFieldTable(buf, p + 4, q, depth + 1);
  else if (type === 0x41 /* A */) checkFieldArray(buf, p + 4, q, depth + 1);
  return q;
}

/**
 * A field name must be UTF-8: decoded, invalid octets become U+FFFD (three octets each), so the name could no
 * longer be encoded as a shortstr when the table is written again (dead-lettering rewrites headers). Found by
 * the field-table fuzzer. ASCII names, nearly all of them, are checked without allocating a view.
 */
function checkName(buf: Buffer, p: number, end: number): void {
  for (let i = p; i < end; i++) {
    if ((buf[i] as number) >= 0x80) {
      if (!isUtf8(buf.subarray(p, end))) {
        throw new WarrenError('SYNTAX_ERROR', `field name is not UTF-8 at ${hexSnippet(buf, p, end)}`);
      }
      return;
    }
  }
}

/** Decodes the pairs in [p, end): the table's contents, after its long length prefix. */
export function decodeFieldTable(buf: Buffer, p: number, end: number, depth = 0): FieldTable {
  if (depth > MAX_FIELD_DEPTH) tooDeep();
  const table: FieldTable = {};
  while (p < end) {
    const nameEnd = p + 1 + (buf[p] as number);
    // The name and its type code must both fit.
    if (nameEnd >= end) cannotDecode(WHAT, buf, p, end);
    checkName(buf, p + 1, nameEnd);
    const name = buf.toString('utf8', p + 1, nameEnd);
    const type = buf[nameEnd] as number;
    const q = fieldValueEnd(buf, nameEnd + 1, end, type);
    const value = readFieldValue(buf, nameEnd + 1, q, type, depth);
    // A plain assignment to "__proto__" would replace the prototype instead of adding a key.
    if (name === '__proto__') Object.defineProperty(table, name, { value, enumerable: true, writable: true });
    else table[name] = value;
    p = q;
  }
  return table;
}

/** Octets of a value including its type code. */
function fieldValueSize(v: FieldValue | undefined, depth: number): number {
  if (v === null || v === undefined) return 1;
  switch (typeof v) {
    case 'boolean':
      return 2;
    case 'number':
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 5 : 9;
    case 'bigint':
      return 9;
    case 'string':
      return 5 + Buffer.byteLength(v, 'utf8');
    default:
      break;
  }
  if (Buffer.isBuffer(v)) return 5 + v.length;
  if (v instanceof Date) return 9;
  if (v instanceof Decimal) return 6;
  if (depth >= MAX_FIELD_DEPTH) tooDeep();
  if (Array.isArray(v)) {
    let n = 5;
    for (const item of v) n += fieldValueSize(item, depth + 1);
    return n;
  }
  return 1 + tableSize(v, depth + 1);
}

function tableSize(t: FieldTable, depth: number): number {
  let n = 4;
  for (const key in t) {
    const v = t[key];
    if (v === undefined) continue;
    n += shortstrSize(key) + fieldValueSize(v, depth);
  }
  return n;
}

/** Encoded size of a field table including its length prefix. */
export function fieldTableSize(t: FieldTable): number {
  return tableSize(t, 0);
}

function writeNumber(buf: Buffer, p: number, v: number): number {
  if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) {
    buf[p] = 0x49; // I
    buf.writeInt32BE(v, p + 1);
    return p + 5;
  }
  if (Number.isInteger(v) && v >= -9223372036854775808 && v < 9223372036854775808) {
    // Exact without BigInt: dividing a double by a power of two, and flooring it, lose nothing.
    const hi = Math.floor(v / TWO_32);
    buf[p] = 0x6c; // l
    buf.writeInt32BE(hi, p + 1);
    buf.writeUInt32BE(v - hi * TWO_32, p + 5);
    return p + 9;
  }
  buf[p] = 0x64; // d
  buf.writeDoubleBE(v, p + 1);
  return p + 9;
}

function writeBigint(buf: Buffer, p: number, v: bigint): number {
  if (v >= INT64_MIN && v < INT64_LIMIT) {
    buf[p] = 0x6c; // l
    buf.writeBigInt64BE(v, p + 1);
  } else if (v >= 0n && v < UINT64_LIMIT) {
    buf[p] = 0x4c; // L
    buf.writeBigUInt64BE(v, p + 1);
  } else {
    throw new WarrenError('SYNTAX_ERROR', `integer ${v} does not fit a 64-bit field value`);
  }
  return p + 9;
}

function writeFieldValue(buf: Buffer, p: number, v: FieldValue | undefined): number {
  if (v === null || v === undefined) {
    buf[p] = 0x56; // V
    return p + 1;
  }
  switch (typeof v) {
    case 'boolean':
      buf[p] = 0x74; // t
      buf[p + 1] = v ? 1 : 0;
      return p + 2;
    case 'number':
      return writeNumber(buf, p, v);
    case 'bigint':
      return writeBigint(buf, p, v);
    case 'string': {
      buf[p] = 0x53; // S
      const n = buf.write(v, p + 5, 'utf8');
      buf.writeUInt32BE(n, p + 1);
      return p + 5 + n;
    }
    default:
      break;
  }
  if (Buffer.isBuffer(v)) {
    buf[p] = 0x78; // x
    buf.writeUInt32BE(v.length, p + 1);
    return p + 5 + v.copy(buf, p + 5);
  }
  if (v instanceof Date) {
    buf[p] = 0x54; // T
    const seconds = Math.max(0, Math.floor(v.getTime() / 1000));
    buf.writeUInt32BE(Math.floor(seconds / TWO_32), p + 1);
    buf.writeUInt32BE(seconds % TWO_32, p + 5);
    return p + 9;
  }
  if (v instanceof Decimal) {
    buf[p] = 0x44; // D
    buf.writeUInt8(v.places, p + 1);
    buf.writeUInt32BE(v.value, p + 2);
    return p + 6;
  }
  if (Array.isArray(v)) {
    buf[p] = 0x41; // A
    let q = p + 5;
    for (const item of v) q = writeFieldValue(buf, q, item);
    buf.writeUInt32BE(q - p - 5, p + 1);
    return q;
  }
  buf[p] = 0x46; // F
  return writeFieldTable(buf, p + 1, v);
}

/**
 * Writes the table with its length prefix at `p`, returning the offset after it. The buffer must have room for
 * `fieldTableSize(t)` octets (which also enforces the depth bound before anything is written).
 */
export function writeFieldTable(buf: Buffer, p: number, t: FieldTable): number {
  let q = p + 4;
  for (const key in t) {
    const v = t[key];
    if (v === undefined) continue;
    q = writeShortstr(buf, q, key);
    q = writeFieldValue(buf, q, v);
  }
  buf.writeUInt32BE(q - p - 4, p);
  return q;
}

/** A table as a standalone buffer (length prefix included), for callers outside the method codecs. */
export function encodeFieldTable(t: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(fieldTableSize(t));
  writeFieldTable(buf, 0, t);
  return buf;
}

/** Decodes a standalone table (length prefix included) that must fill `buf` exactly. */
export function decodeFieldTableBuffer(buf: Buffer): FieldTable {
  const end = longstrEnd(buf, 0, buf.length, WHAT);
  if (end !== buf.length) cannotDecode(WHAT, buf, end, buf.length);
  return decodeFieldTable(buf, 4, end);
}
