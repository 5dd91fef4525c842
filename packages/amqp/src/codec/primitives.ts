/**
 * AMQP 0-9-1 primitive types (spec section 4.2.5), read and written at explicit offsets.
 *
 *   octet     = OCTET                      short = 2*OCTET (big-endian, unsigned)
 *   long      = 4*OCTET                    longlong = 8*OCTET
 *   shortstr  = OCTET *string-char         ; length-prefixed, at most 255 octets
 *   longstr   = long *OCTET                ; length-prefixed
 *   timestamp = longlong                   ; POSIX seconds
 *
 * Readers take `(buf, p, end)` and check every length against `end`, so a truncated or lying length
 * becomes a FRAME_ERROR and never a RangeError from Buffer. Writers assume the caller sized the buffer with
 * the matching `*Size` function (they are always used in pairs), so they do not check again.
 */
import { WarrenError } from '@warren/core';

/** 2^32, for splitting 64-bit integers into two 32-bit halves without BigInt. */
const TWO_32 = 4294967296;

/** A short hex quote of the bytes at fault, as the design asks every codec error to carry. */
export function hexSnippet(buf: Buffer, start: number, end: number, max = 16): string {
  const s = Math.max(0, Math.min(start, buf.length));
  const e = Math.max(s, Math.min(end, s + max, buf.length));
  const hex = buf.toString('hex', s, e).replace(/(..)(?!$)/g, '$1 ');
  return `<${hex}${end - s > max ? ' ...' : ''}>`;
}

/**
 * RabbitMQ answers undecodable method arguments with 501 "cannot decode" (rabbit_misc:frame_error), so a
 * truncated argument list, a length running past its frame or trailing octets are a FRAME_ERROR.
 */
export function cannotDecode(what: string, buf: Buffer, start: number, end: number): never {
  throw new WarrenError('FRAME_ERROR', `cannot decode ${what} at ${hexSnippet(buf, start, end)}`);
}

/** Throws unless `n` more octets fit before `end`; returns `p + n` for chaining. */
export function need(buf: Buffer, p: number, n: number, end: number, what: string): number {
  if (p + n > end) cannotDecode(what, buf, p, end);
  return p + n;
}

/** The offset just past the shortstr starting at `p`. */
export function shortstrEnd(buf: Buffer, p: number, end: number, what: string): number {
  if (p >= end) cannotDecode(what, buf, p, end);
  const q = p + 1 + (buf[p] as number);
  if (q > end) cannotDecode(what, buf, p, end);
  return q;
}

/** The offset just past the long-length-prefixed value (longstr, table, array) starting at `p`. */
export function longstrEnd(buf: Buffer, p: number, end: number, what: string): number {
  if (p + 4 > end) cannotDecode(what, buf, p, end);
  const q = p + 4 + buf.readUInt32BE(p);
  if (q > end) cannotDecode(what, buf, p, end);
  return q;
}

/**
 * Unsigned 64-bit as a JS number. Exact up to 2^53; beyond that the value is rounded, which is harmless for
 * the fields that use it (a delivery tag that large names no delivery, a body that large exceeds every limit).
 */
export function readLonglong(buf: Buffer, p: number): number {
  return buf.readUInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
}

export function writeLonglong(buf: Buffer, p: number, v: number): number {
  const hi = Math.floor(v / TWO_32);
  buf.writeUInt32BE(hi, p);
  buf.writeUInt32BE(v - hi * TWO_32, p + 4);
  return p + 8;
}

/** Encoded size of a shortstr; throws rather than let a string silently lose its tail. */
/**
 * `s` cut to what a shortstr can hold (255 octets of UTF-8, never half a character): for texts the server
 * composes itself (reply-text), which must never make its own close frame unencodable.
 */
export function clipShortstr(s: string): string {
  if (s.length <= 85 || Buffer.byteLength(s, 'utf8') <= 255) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > 255) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export function shortstrSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  // AMQP 0-9-1 section 4.2.5.3: short strings are limited to 255 octets.
  if (n > 255)
    throw new WarrenError('SYNTAX_ERROR', `short string longer than 255 octets: '${s.slice(0, 32)}...'`);
  return 1 + n;
}

export function writeShortstr(buf: Buffer, p: number, s: string): number {
  const n = buf.write(s, p + 1, 'utf8');
  buf[p] = n;
  return p + 1 + n;
}

export function longstrSize(b: Buffer): number {
  return 4 + b.length;
}

export function writeLongstr(buf: Buffer, p: number, b: Buffer): number {
  buf.writeUInt32BE(b.length, p);
  b.copy(buf, p + 4);
  return p + 4 + b.length;
}

/** Copies the longstr out: a decoded method must not keep a view that pins a whole socket chunk. */
export function readLongstr(buf: Buffer, p: number, q: number): Buffer {
  return Buffer.from(buf.subarray(p + 4, q));
}
