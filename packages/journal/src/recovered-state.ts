import type {
  PagedTail,
  RecoveredQueueMessage,
  RecoveredState,
  RecoverOptions,
  StoredMessage,
} from '@warren/core';
import type { JournalIndex } from './journal-index';

/** One queue's entries in queue order, as columns. */
interface QueueOrder {
  ids: Float64Array;
  delivered: Uint8Array;
}

/**
 * What `Journal.recover` hands the broker: topology, and each queue's messages in order. With
 * `residentBytes`, only about that many bytes of each queue's front are read and handed over whole; the rest
 * come as id, size and priority from the index (nothing is read for them), their bodies read when the queue
 * reaches them. With `pagedTails` that rest comes as columns, not an object per message.
 */
export async function recoveredState(
  index: JournalIndex,
  options: RecoverOptions,
  readWhole: (ids: ReadonlySet<number>) => Promise<Map<number, StoredMessage>>,
): Promise<RecoveredState> {
  const budget = options.residentBytes ?? Infinity;
  const orders = orderQueues(index);
  /** Per queue, how many entries from the front are loaded whole. */
  const front = new Map<string, number>();
  const whole = new Set<number>();
  for (const [queue, { ids }] of orders) {
    let bytes = 0;
    let k = 0;
    for (; k < ids.length; k++) {
      bytes += Math.max(0, index.bodySizeOf(ids[k] as number));
      if (bytes > budget) break;
      whole.add(ids[k] as number);
    }
    front.set(queue, k);
  }
  const bodies = await readWhole(whole);
  const topology = [...index.topology.values()].sort((a, b) => a.seq - b.seq).map((t) => t.record);
  const messages = new Map<string, RecoveredQueueMessage[]>();
  const tails = options.pagedTails === true ? new Map<string, PagedTail>() : undefined;
  for (const [queue, { ids, delivered }] of orders) {
    const k = front.get(queue) as number;
    const out: RecoveredQueueMessage[] = [];
    const end = tails === undefined ? ids.length : k;
    for (let i = 0; i < end; i++) {
      const id = ids[i] as number;
      const message = bodies.get(id);
      if (message !== undefined) {
        const priority = message.properties.priority ?? 0;
        out.push({ id, size: message.body.length, priority, message, delivered: delivered[i] === 1 });
        continue;
      }
      // Meant to be loaded but unreadable (logged by the reader), or lost since recovery: left out.
      const size = i < k ? -1 : index.bodySizeOf(id);
      if (size < 0) continue;
      out.push({
        id,
        size,
        priority: index.priorityOf(id),
        message: undefined,
        delivered: delivered[i] === 1,
      });
    }
    messages.set(queue, out);
    if (tails !== undefined && k < ids.length) tails.set(queue, pagedTail(index, ids, delivered, k));
  }
  return tails === undefined
    ? { topology, messages, maxMessageId: index.maxMessageId }
    : { topology, messages, pagedTails: tails, maxMessageId: index.maxMessageId };
}

/** Entries `from..` of one queue as a PagedTail, leaving out any whose body is gone. */
function pagedTail(index: JournalIndex, ids: Float64Array, delivered: Uint8Array, from: number): PagedTail {
  const n = ids.length - from;
  const out = {
    ids: new Float64Array(n),
    sizes: new Uint32Array(n),
    priorities: new Uint8Array(n),
    delivered: new Uint8Array(n),
  };
  let m = 0;
  for (let i = from; i < ids.length; i++) {
    const id = ids[i] as number;
    const size = index.bodySizeOf(id);
    if (size < 0) continue;
    out.ids[m] = id;
    out.sizes[m] = size;
    out.priorities[m] = index.priorityOf(id);
    out.delivered[m] = delivered[i] as number;
    m++;
  }
  if (m === n) return out;
  return {
    ids: out.ids.subarray(0, m),
    sizes: out.sizes.subarray(0, m),
    priorities: out.priorities.subarray(0, m),
    delivered: out.delivered.subarray(0, m),
  };
}

/**
 * Every queue's entries sorted by sequence number (queue order) without an object per entry: the sequence
 * numbers are sorted as a typed array (a native numeric sort) and each entry finds its rank in it.
 */
function orderQueues(index: JournalIndex): Map<string, QueueOrder> {
  const counts = new Map<string, number>();
  index.eachEntry((e) => counts.set(e.queue, (counts.get(e.queue) ?? 0) + 1));
  const cols = new Map<string, { seqs: Float64Array; ids: Float64Array; delivered: Uint8Array; n: number }>();
  for (const [queue, n] of counts) {
    cols.set(queue, {
      seqs: new Float64Array(n),
      ids: new Float64Array(n),
      delivered: new Uint8Array(n),
      n: 0,
    });
  }
  index.eachEntry((e) => {
    const c = cols.get(e.queue);
    if (c === undefined) return;
    c.seqs[c.n] = e.seq;
    c.ids[c.n] = e.id;
    c.delivered[c.n] = e.delivered ? 1 : 0;
    c.n++;
  });
  const out = new Map<string, QueueOrder>();
  for (const [queue, c] of cols) {
    const sorted = c.seqs.slice().sort();
    const ids = new Float64Array(c.n);
    const delivered = new Uint8Array(c.n);
    const taken = new Uint8Array(c.n);
    for (let i = 0; i < c.n; i++) {
      let r = lowerBound(sorted, c.seqs[i] as number);
      // Equal sequence numbers are never written, but should they occur each entry still gets a place.
      while (taken[r] === 1) r++;
      taken[r] = 1;
      ids[r] = c.ids[i] as number;
      delivered[r] = c.delivered[i] as number;
    }
    out.set(queue, { ids, delivered });
  }
  return out;
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
