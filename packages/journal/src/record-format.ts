/*
 * On-disk format of the journal (all integers little-endian).
 *
 *   directory := segment*                      files named NNNNNNNNNNNN.wseg, replayed in number order
 *   segment   := header record*
 *   header    := "WJNL" version:u32 segment:f64 maxMessageId:f64 nextSeq:f64 crc:u32      (36 bytes)
 *                crc = crc32 of the 32 bytes before it
 *   record    := length:u32 crc:u32 type:u8 payload
 *                length = 1 + payload bytes; crc = crc32(length bytes ++ type ++ payload)
 *   payload by type (str := len:u32 utf8; ids and seqs are f64, exact up to 2^53):
 *     1 PUT        seq:f64 key:str record:value          topology record, replaced whole per key
 *     2 DELETE     key:str
 *     3 MESSAGE    id:f64 exchange:str routingKey:str properties:value body:bytes-to-end
 *     4 ENQUEUE    id:f64 seq:f64 delivered:u8 queue:str
 *     5 DELIVERED  id:f64 queue:str
 *     6 SETTLE     id:f64 queue:str
 *     7 DROP_QUEUE queue:str
 *   value := see value-codec.ts
 *
 * `seq` orders topology and queue entries independently of where a record sits, so compaction can move a
 * live record to the head without changing queue order. The header carries maxMessageId and nextSeq because
 * deleting dead segments may delete the records that carried the largest ones.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = 0x4c4e4a57; // "WJNL" read as u32 LE
export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 36;
export const RECORD_HEADER = 9;
/** Above any message the broker accepts (128 MiB by default); a larger length is corruption. */
export const MAX_RECORD = 1 << 30;

export const RecordType = {
  Put: 1,
  Delete: 2,
  Message: 3,
  Enqueue: 4,
  Delivered: 5,
  Settle: 6,
  DropQueue: 7,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const MAX_TYPE = 7;

export interface SegmentHeader {
  segment: number;
  maxMessageId: number;
  nextSeq: number;
}

export function encodeHeader(h: SegmentHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt32LE(FORMAT_VERSION, 4);
  b.writeDoubleLE(h.segment, 8);
  b.writeDoubleLE(h.maxMessageId, 16);
  b.writeDoubleLE(h.nextSeq, 24);
  b.writeUInt32LE(crc32(b.subarray(0, 32)), 32);
  return b;
}

/** The header, or undefined when it is missing, torn or corrupt (records after it are still scanned). */
export function decodeHeader(b: Buffer): SegmentHeader | undefined {
  if (b.length < HEADER_SIZE) return undefined;
  if (b.readUInt32LE(0) !== SEGMENT_MAGIC || b.readUInt32LE(4) !== FORMAT_VERSION) return undefined;
  if (crc32(b.subarray(0, 32)) !== b.readUInt32LE(32)) return undefined;
  return { segment: b.readDoubleLE(8), maxMessageId: b.readDoubleLE(16), nextSeq: b.readDoubleLE(24) };
}

/** CRC-32 (zlib's polynomial) one byte at a time, for the four length bytes only: see lengthCrc. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * crc32 of a record's length field (u32 LE), the seed of its checksum. Computed here rather than by zlib:
 * four table steps cost less than a subarray and a native call, once for every record written and read.
 */
export function lengthCrc(length: number): number {
  let c = -1;
  for (let i = 0; i < 4; i++) c = (CRC_TABLE[(c ^ (length >>> (8 * i))) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Total size of the valid record starting at `p`, or -1 when none does (torn, corrupt, or garbage). */
export function recordAt(b: Buffer, p: number): number {
  if (p + RECORD_HEADER > b.length) return -1;
  const length = b.readUInt32LE(p);
  if (length < 1 || length > MAX_RECORD || p + 8 + length > b.length) return -1;
  const type = b[p + 8] as number;
  if (type < 1 || type > MAX_TYPE) return -1;
  const crc = crc32(b.subarray(p + 8, p + 8 + length), lengthCrc(length));
  return crc === b.readUInt32LE(p + 4) ? 8 + length : -1;
}

export interface ScanResult {
  /** End of the last valid record: where a torn tail is cut. */
  validEnd: number;
  /** Start of unreadable bytes running to the end of the buffer, or -1. */
  tailFrom: number;
}

/**
 * Visits every valid record in `b` from `start`. A bad record followed by a valid one is corruption in the
 * middle: only the bytes up to the next valid record are skipped (reported through `onSkip`). Bad bytes with
 * no valid record after them are a torn or corrupt tail, reported in the result for the caller to cut.
 */
export function scanRecords(
  b: Buffer,
  start: number,
  visit: (type: RecordType, offset: number, length: number) => void,
  onSkip: (from: number, to: number) => void,
): ScanResult {
  let p = start;
  let validEnd = start;
  while (p < b.length) {
    const n = recordAt(b, p);
    if (n > 0) {
      visit(b[p + 8] as RecordType, p, n);
      p += n;
      validEnd = p;
      continue;
    }
    // Resynchronise: the next offset holding a whole record with a matching checksum. A false match needs a
    // plausible length, a known type and a 32-bit CRC collision at once.
    let q = p + 1;
    while (q + RECORD_HEADER <= b.length && recordAt(b, q) < 0) q++;
    if (q + RECORD_HEADER > b.length) return { validEnd, tailFrom: p };
    onSkip(p, q);
    p = q;
  }
  return { validEnd, tailFrom: -1 };
}

export function segmentFileName(no: number): string {
  return `${String(no).padStart(12, '0')}.wseg`;
}

export const SEGMENT_FILE = /^(\d{12})\.wseg$/;
