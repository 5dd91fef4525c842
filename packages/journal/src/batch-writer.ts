import { crc32 } from 'node:zlib';
import { lengthCrc, RECORD_HEADER, type RecordType } from './record-format';

/** Bodies up to this size are copied into the batch buffer; larger ones go out as their own iovec, uncopied. */
export const INLINE_BODY_MAX = 1024;

/**
 * Builds one batch of framed records (see record-format.ts) as a list of chunks for one `writev`. Small
 * fields are packed into a growing buffer; large bodies are referenced, not copied, so a persistent publish
 * costs no extra copy of its body. A fresh buffer per batch: chunks stay referenced until the write is done.
 */
export class BatchWriter {
  readonly chunks: Buffer[] = [];
  private buf: Buffer;
  private pos = 0;
  private chunkStart = 0;
  private flushed = 0;
  private recStart = -1;

  constructor(initial = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far: the batch-relative offset of the next record. */
  get offset(): number {
    return this.flushed + this.pos - this.chunkStart;
  }

  begin(type: RecordType): void {
    this.ensure(RECORD_HEADER);
    this.recStart = this.pos;
    this.buf[this.pos + 8] = type;
    this.pos += RECORD_HEADER;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  str(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: reserve that, write, then patch the real length.
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }

  bytes(b: Buffer): void {
    this.u32(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** Ends the current record, `tail` (a message body) being the rest of its payload. Returns its size. */
  end(tail?: Buffer): number {
    const start = this.recStart;
    const buf = this.buf;
    const tailLength = tail?.length ?? 0;
    const length = this.pos - start - 8 + tailLength;
    buf.writeUInt32LE(length, start);
    // The length is covered by the checksum too: a flipped length byte must not resync onto garbage.
    let crc = crc32(buf.subarray(start + 8, this.pos), lengthCrc(length));
    if (tail !== undefined && tailLength > 0) {
      crc = crc32(tail, crc);
      if (tailLength <= INLINE_BODY_MAX) {
        buf.writeUInt32LE(crc, start + 4);
        this.ensure(tailLength);
        tail.copy(this.buf, this.pos);
        this.pos += tailLength;
        this.recStart = -1;
        return length + 8;
      }
      buf.writeUInt32LE(crc, start + 4);
      this.chunks.push(buf.subarray(this.chunkStart, this.pos), tail);
      this.flushed += this.pos - this.chunkStart + tailLength;
      this.chunkStart = this.pos;
      this.recStart = -1;
      return length + 8;
    }
    buf.writeUInt32LE(crc, start + 4);
    this.recStart = -1;
    return length + 8;
  }

  /** Drops the record being built (its value could not be encoded); nothing of it reaches the batch. */
  abort(): void {
    if (this.recStart >= 0) this.pos = this.recStart;
    this.recStart = -1;
  }

  /** Appends an already framed record as is (compaction copies live records verbatim). */
  raw(record: Buffer): void {
    this.ensure(record.length);
    record.copy(this.buf, this.pos);
    this.pos += record.length;
  }

  finish(): Buffer[] {
    if (this.pos > this.chunkStart) this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
    this.flushed += this.pos - this.chunkStart;
    this.chunkStart = this.pos;
    return this.chunks;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Bytes before chunkStart were handed out as chunks and must stay untouched: only the open part moves.
    const open = this.pos - this.chunkStart;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, open + n + 1024));
    this.buf.copy(next, 0, this.chunkStart, this.pos);
    if (this.recStart >= 0) this.recStart -= this.chunkStart;
    this.pos = open;
    this.chunkStart = 0;
    this.buf = next;
  }
}

/** Reads the fields BatchWriter writes. */
export class ByteReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A copy: a recovered body must not pin the segment-sized buffer it was read from. */
  bytes(n: number): Buffer {
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('record payload ends early');
  }
}
