import type { Logger, StoreOp } from '@warren/core';
import type { BatchWriter } from './batch-writer';
import type { JournalIndex } from './journal-index';
import { RecordType } from './record-format';
import { writeDelete, writeDropQueue, writeEnqueue, writeEntryOp, writeMessage, writePut } from './records';
import type { Segment } from './segment';

/**
 * Turns one batch of store operations into records and applies each to the index as it is written, with the
 * location it will have on disk. Operations that change nothing (settling an unknown entry, deleting an
 * absent key) write nothing, which keeps tombstones from pinning segments for no reason.
 */
export function encodeOps(
  ops: StoreOp[],
  w: BatchWriter,
  index: JournalIndex,
  seg: Segment,
  base: number,
  logger: Logger,
): void {
  for (const op of ops) {
    try {
      encodeOp(op, w, index, seg, base);
    } catch (err) {
      // Only encoding a value can throw (a type no codec knows), always before the index is touched.
      w.abort();
      logger.error({ err, op: op.op }, 'journal: could not encode a store operation; it is not stored');
    }
  }
}

function encodeOp(op: StoreOp, w: BatchWriter, index: JournalIndex, seg: Segment, base: number): void {
  switch (op.op) {
    case 'put': {
      const seq = index.topology.get(op.key)?.seq ?? index.nextSeq;
      const off = base + w.offset;
      const len = writePut(w, seq, op.key, op.record);
      index.put(op.key, seq, op.record, seg, off, len);
      return;
    }
    case 'delete':
      if (!index.topology.has(op.key)) return;
      writeDelete(w, op.key);
      index.del(op.key, seg);
      return;
    case 'enqueue': {
      // As in MemoryStore, a message already held is not stored again: one body however many queues.
      if (op.message !== undefined && !index.hasBody(op.id)) {
        const off = base + w.offset;
        const len = writeMessage(w, op.message);
        index.body(op.id, seg, off, len, op.message.body.length, op.message.properties.priority ?? 0);
      }
      const held = index.entrySeq(op.queue, op.id);
      const seq = held >= 0 ? held : index.nextSeq;
      const off = base + w.offset;
      const len = writeEnqueue(w, op.id, seq, false, op.queue);
      index.enqueue(op.queue, op.id, seq, false, seg, off, len);
      return;
    }
    case 'delivered': {
      if (index.entrySeq(op.queue, op.id) < 0 || index.isDelivered(op.queue, op.id)) return;
      const off = base + w.offset;
      const len = writeEntryOp(w, RecordType.Delivered, op.id, op.queue);
      index.delivered(op.queue, op.id, seg, off, len);
      return;
    }
    case 'settle':
      if (index.entrySeq(op.queue, op.id) < 0) return;
      writeEntryOp(w, RecordType.Settle, op.id, op.queue);
      index.settle(op.queue, op.id, seg);
      return;
    case 'drop-queue':
      if (!index.hasQueue(op.queue)) return;
      writeDropQueue(w, op.queue);
      index.dropQueue(op.queue, seg);
      return;
  }
}
