import { readdir, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@warren/core';
import type { JournalIndex } from './journal-index';
import { decodeHeader, HEADER_SIZE, RecordType, scanRecords, SEGMENT_FILE } from './record-format';
import { decodeMessageMeta, decodeRecord } from './records';
import { Segment } from './segment';

/** What recovery found wrong and dropped; logged, and kept on the journal for tests and operators. */
export interface RecoveryReport {
  segments: number;
  records: number;
  /** Torn or corrupt tails cut off (only the last segment is truncated on disk). */
  truncated: { segment: number; offset: number; bytes: number }[];
  /** Unreadable regions in the middle of a segment, skipped. */
  skipped: { segment: number; from: number; to: number }[];
  /** Records with a valid checksum that could not be decoded. */
  undecodable: { segment: number; offset: number; error: string }[];
  /** Segments whose header was unreadable (their records were still scanned). */
  badHeaders: number[];
  /** Queue entries dropped because their message body was lost. */
  lostEntries: { queue: string; id: number }[];
}

/**
 * Replays every segment in order into `index`. Never refuses to start: bad bytes are cut (at the tail of
 * the last segment) or skipped (anywhere else), and every loss is logged with where it was and how big.
 */
export async function recoverSegments(
  dir: string,
  index: JournalIndex,
  logger: Logger,
): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const report: RecoveryReport = {
    segments: 0,
    records: 0,
    truncated: [],
    skipped: [],
    undecodable: [],
    badHeaders: [],
    lostEntries: [],
  };
  const names = (await readdir(dir))
    .map((name) => ({ name, m: SEGMENT_FILE.exec(name) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ name: x.name, no: Number(x.m?.[1]) }))
    .sort((a, b) => a.no - b.no);
  const segments: Segment[] = [];
  for (let i = 0; i < names.length; i++) {
    const { name, no } = names[i] as { name: string; no: number };
    const path = join(dir, name);
    const buf = await readFile(path);
    const seg = new Segment(no, path, buf.length);
    segments.push(seg);
    index.segments.set(no, seg);
    report.segments++;
    const header = decodeHeader(buf);
    if (header !== undefined) {
      if (header.maxMessageId > index.maxMessageId) index.maxMessageId = header.maxMessageId;
      if (header.nextSeq > index.nextSeq) index.nextSeq = header.nextSeq;
    } else if (buf.length > 0) {
      report.badHeaders.push(no);
      logger.warn({ segment: name }, 'journal: unreadable segment header; scanning its records anyway');
    }
    const result = scanRecords(
      buf,
      Math.min(HEADER_SIZE, buf.length),
      (_type, offset, size) => {
        report.records++;
        try {
          apply(index, seg, buf, offset, size);
        } catch (e) {
          report.undecodable.push({ segment: no, offset, error: String(e) });
          logger.error({ segment: name, offset, err: e }, 'journal: skipped an undecodable record');
        }
      },
      (from, to) => {
        report.skipped.push({ segment: no, from, to });
        logger.error(
          { segment: name, offset: from, bytes: to - from },
          'journal: skipped a corrupt region in the middle of a segment; the records in it are lost',
        );
      },
    );
    if (result.tailFrom >= 0) {
      const bytes = buf.length - result.validEnd;
      report.truncated.push({ segment: no, offset: result.validEnd, bytes });
      const last = i === names.length - 1;
      logger.warn(
        { segment: name, offset: result.validEnd, bytes },
        last
          ? 'journal: cut a torn or corrupt tail (an unfinished write at a crash, or damage)'
          : 'journal: ignored a corrupt tail of an older segment',
      );
      if (last) {
        // Cut so the bytes can never be misread later; new records go to a new segment anyway.
        await truncate(path, result.validEnd);
        seg.size = result.validEnd;
      }
    }
  }
  report.lostEntries = index.sweep();
  if (report.lostEntries.length > 0) {
    logger.error(
      { entries: report.lostEntries.length, first: report.lostEntries.slice(0, 10) },
      'journal: dropped queue entries whose message body was lost to corruption',
    );
  }
  return { segments, report };
}

function apply(index: JournalIndex, seg: Segment, buf: Buffer, offset: number, size: number): void {
  const r = decodeRecord(buf, offset, size);
  switch (r.type) {
    case RecordType.Put:
      return index.put(r.key, r.seq, r.record, seg, offset, size);
    case RecordType.Delete:
      return index.del(r.key, seg);
    case RecordType.Message: {
      // Size and priority are kept in the index, so that a restart reads only the bodies it loads.
      const meta = decodeMessageMeta(buf, offset, size);
      return index.body(r.id, seg, offset, size, meta.size, meta.priority);
    }
    case RecordType.Enqueue:
      return index.enqueue(r.queue, r.id, r.seq, r.delivered, seg, offset, size);
    case RecordType.Delivered:
      return index.delivered(r.queue, r.id, seg, offset, size);
    case RecordType.Settle:
      return index.settle(r.queue, r.id, seg);
    case RecordType.DropQueue:
      return index.dropQueue(r.queue, seg);
  }
}
