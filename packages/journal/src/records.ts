import type { MessageProperties, StoredMessage, TopologyRecord } from '@warren/core';
import { ByteReader, type BatchWriter } from './batch-writer';
import { RecordType } from './record-format';
import { readValue, writeValue, type StoredValue } from './value-codec';

/** Payload encoders, one per record type (grammar in record-format.ts). Each returns the record's size. */
export function writePut(w: BatchWriter, seq: number, key: string, record: TopologyRecord): number {
  w.begin(RecordType.Put);
  w.f64(seq);
  w.str(key);
  writeValue(w, record as unknown as StoredValue);
  return w.end();
}

export function writeDelete(w: BatchWriter, key: string): number {
  w.begin(RecordType.Delete);
  w.str(key);
  return w.end();
}

export function writeMessage(w: BatchWriter, m: StoredMessage): number {
  w.begin(RecordType.Message);
  w.f64(m.id);
  w.str(m.exchange);
  w.str(m.routingKey);
  writeValue(w, m.properties as unknown as StoredValue);
  return w.end(m.body);
}

export function writeEnqueue(
  w: BatchWriter,
  id: number,
  seq: number,
  delivered: boolean,
  queue: string,
): number {
  w.begin(RecordType.Enqueue);
  w.f64(id);
  w.f64(seq);
  w.u8(delivered ? 1 : 0);
  w.str(queue);
  return w.end();
}

/** DELIVERED and SETTLE share a layout. */
export function writeEntryOp(
  w: BatchWriter,
  type: typeof RecordType.Delivered | typeof RecordType.Settle,
  id: number,
  queue: string,
): number {
  w.begin(type);
  w.f64(id);
  w.str(queue);
  return w.end();
}

export function writeDropQueue(w: BatchWriter, queue: string): number {
  w.begin(RecordType.DropQueue);
  w.str(queue);
  return w.end();
}

export type DecodedRecord =
  | { type: typeof RecordType.Put; seq: number; key: string; record: TopologyRecord }
  | { type: typeof RecordType.Delete; key: string }
  /** The body is not decoded while scanning: recovery only needs to know where it is. */
  | { type: typeof RecordType.Message; id: number }
  | { type: typeof RecordType.Enqueue; id: number; seq: number; delivered: boolean; queue: string }
  | { type: typeof RecordType.Delivered | typeof RecordType.Settle; id: number; queue: string }
  | { type: typeof RecordType.DropQueue; queue: string };

/** Decodes the record framed at `offset` (already checksum-verified). Throws on a malformed payload. */
export function decodeRecord(b: Buffer, offset: number, size: number): DecodedRecord {
  const r = new ByteReader(b, offset + 9, offset + size);
  const type = b[offset + 8];
  switch (type) {
    case RecordType.Put: {
      const seq = r.f64();
      const key = r.str();
      const record = readValue(r);
      if (typeof record !== 'object' || record === null || !('kind' in record)) {
        throw new RangeError('PUT record holds no topology record');
      }
      return { type, seq, key, record: record as unknown as TopologyRecord };
    }
    case RecordType.Delete:
      return { type, key: r.str() };
    case RecordType.Message:
      return { type, id: r.f64() };
    case RecordType.Enqueue:
      return { type, id: r.f64(), seq: r.f64(), delivered: r.u8() === 1, queue: r.str() };
    case RecordType.Delivered:
    case RecordType.Settle:
      return { type, id: r.f64(), queue: r.str() };
    case RecordType.DropQueue:
      return { type, queue: r.str() };
    default:
      throw new RangeError(`unknown record type ${String(type)}`);
  }
}

/** What a queue needs to hold a message whose body stays on disk: its body size and priority. */
export function decodeMessageMeta(
  b: Buffer,
  offset: number,
  size: number,
): { size: number; priority: number } {
  const r = new ByteReader(b, offset + 9, offset + size);
  r.f64();
  r.str();
  r.str();
  const properties = readValue(r) as unknown as MessageProperties;
  return { size: offset + size - r.pos, priority: properties.priority ?? 0 };
}

/** The full message of a MESSAGE record, body copied out of `b`. */
export function decodeMessage(b: Buffer, offset: number, size: number): StoredMessage {
  const r = new ByteReader(b, offset + 9, offset + size);
  const id = r.f64();
  const exchange = r.str();
  const routingKey = r.str();
  const properties = readValue(r) as unknown as MessageProperties;
  const body = r.bytes(offset + size - r.pos);
  return { id, exchange, routingKey, properties, body };
}
