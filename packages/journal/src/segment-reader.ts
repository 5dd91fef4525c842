import { open } from 'node:fs/promises';

export interface RecordLocation {
  off: number;
  len: number;
}

/** Records closer than this are read in one go: one read beats two syscalls for a few KiB of dead bytes. */
const MERGE_GAP = 64 * 1024;
const MAX_RANGE = 8 * 1024 * 1024;

/**
 * Reads the records at `locs` from one segment file, a few large positional reads rather than one per
 * record, and hands each to `visit` as (buffer, position of the record in it). Used to load bodies at
 * recovery and to copy live records during compaction; both re-check the checksum.
 */
export async function readRecords<T extends RecordLocation>(
  path: string,
  locs: T[],
  visit: (buf: Buffer, pos: number, loc: T) => void,
): Promise<void> {
  const sorted = [...locs].sort((a, b) => a.off - b.off);
  const fh = await open(path, 'r');
  try {
    let i = 0;
    while (i < sorted.length) {
      const first = sorted[i] as T;
      const start = first.off;
      let end = start + first.len;
      let j = i;
      for (;;) {
        const next = sorted[j + 1];
        if (next === undefined || next.off - end > MERGE_GAP || next.off + next.len - start > MAX_RANGE)
          break;
        end = Math.max(end, next.off + next.len);
        j++;
      }
      const buf = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const view = buf.subarray(0, got);
      for (let k = i; k <= j; k++) {
        const loc = sorted[k] as T;
        visit(view, loc.off - start, loc);
      }
      i = j + 1;
    }
  } finally {
    await fh.close();
  }
}
