import type { JournalIndex } from './journal-index';
import type { Segment } from './segment';

/**
 * Recounts what each segment holds from the index and compares with the running counts (for tests: a drift
 * would make space accounting lie). Returns one line per disagreement.
 */
export function auditIndex(index: JournalIndex, segments: Iterable<Segment>): string[] {
  const count = new Map<Segment, { live: number; bytes: number }>();
  const add = (seg: Segment | undefined, len: number): void => {
    if (seg === undefined) return;
    const c = count.get(seg) ?? { live: 0, bytes: 0 };
    c.live++;
    c.bytes += len;
    count.set(seg, c);
  };
  for (const t of index.topology.values()) add(t.seg, t.len);
  index.eachBody((_id, seg, _off, len) => add(seg, len));
  index.eachEntry((e) => {
    add(e.seg, e.len);
    add(e.dSeg, e.dLen);
  });
  const out: string[] = [];
  for (const s of segments) {
    const c = count.get(s) ?? { live: 0, bytes: 0 };
    if (c.live !== s.live || c.bytes !== s.liveBytes) {
      out.push(`segment ${s.no}: counted live=${s.live}/${s.liveBytes}B, index holds ${c.live}/${c.bytes}B`);
    }
  }
  return out;
}
