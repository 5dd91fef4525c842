import type { TopologyRecord } from './store';
import { StreamIndex } from './stream-index';

export type ChunkRecord = Extract<TopologyRecord, { kind: 'stream-chunk' }>;

/** What the store gave back for one stream: its messages in queue order (ids, body sizes) and chunk records. */
export interface StoredLog {
  ids: readonly number[];
  sizes: readonly number[];
  chunks: readonly ChunkRecord[];
}

export interface RebuiltLog {
  index: StreamIndex;
  /** The stored messages before this position are the rest of a segment retention was removing: settle them. */
  kept: number;
  /** Store changes that make the records agree with the log: deletes first, then puts. */
  deletes: ChunkRecord[];
  puts: ChunkRecord[];
  /** Chunks found away from their recorded offset (which the write order rules out), for the log. */
  moved: { recorded: number; found: number }[];
}

/**
 * Rebuilds a stream's log from what the store kept. The first message that starts a recorded chunk is at that
 * chunk's offset, and the rest follow it. A chunk record is written before its first message in the same
 * batch, so a torn batch leaves:
 *
 * - a record whose message is missing: the record is deleted;
 * - a segment retention was removing, settled from its front: the messages before the first chunk a record
 *   names are that segment's rest, and their removal is finished (`kept`).
 *
 * Messages with no record naming any of them cannot come from this writer: they are a stream stored before
 * streams were logs (a classic queue then), kept from offset 0 as one chunk of `now`.
 */
export function rebuildLog(
  log: StoredLog,
  now: number,
  record: (offset: number, id: number, timestamp: number, segment: boolean) => ChunkRecord,
): RebuiltLog {
  const { ids, sizes } = log;
  let chunks = log.chunks;
  const deletes: ChunkRecord[] = [];
  const puts: ChunkRecord[] = [];
  const moved: RebuiltLog['moved'] = [];
  const byId = new Map<number, ChunkRecord>();
  for (const c of chunks) byId.set(c.id, c);
  let kept = 0;
  while (kept < ids.length && !byId.has(ids[kept] as number)) kept++;
  if (kept === ids.length && ids.length > 0) {
    deletes.push(...chunks);
    const legacy = record(0, ids[0] as number, now, true);
    puts.push(legacy);
    chunks = [legacy];
    byId.clear();
    byId.set(legacy.id, legacy);
    kept = 0;
  }
  const first = kept < ids.length ? byId.get(ids[kept] as number) : undefined;
  const start = first?.offset ?? chunks.reduce((max, c) => Math.max(max, c.offset), 0);
  const index = new StreamIndex(start);
  const used = new Set<ChunkRecord>();
  for (let j = kept; j < ids.length; j++) {
    const id = ids[j] as number;
    const c = byId.get(id);
    if (c !== undefined) {
      used.add(c);
      if (c.offset !== index.next) {
        // The stored order wins; the record is rewritten under the offset it now has.
        moved.push({ recorded: c.offset, found: index.next });
        deletes.push(c);
        puts.push(record(index.next, id, c.timestamp, c.segment));
      }
    }
    const time = c?.timestamp ?? index.lastChunkTime;
    index.push(id, sizes[j] as number, c !== undefined, c?.segment ?? false, time);
  }
  for (const c of chunks) if (!used.has(c) && !deletes.includes(c)) deletes.push(c);
  return { index, kept, deletes, puts, moved };
}
