import type {
  MessageStore,
  RecoverOptions,
  RecoveredQueueMessage,
  RecoveredState,
  StoredMessage,
  StoreOp,
  TopologyRecord,
} from './store';

/**
 * A store in memory: the default when no data directory is configured, and the reference implementation that
 * the journal's conformance tests compare against. Survives a broker restart within one process (hand the same
 * instance to the next Broker), which is how the core's recovery is tested without files.
 */
export class MemoryStore implements MessageStore {
  private readonly topology = new Map<string, TopologyRecord>();
  private readonly messages = new Map<number, { message: StoredMessage; refs: number }>();
  /** queue key -> message id -> delivered flag, in insertion (= queue) order. */
  private readonly queues = new Map<string, Map<number, boolean>>();
  private maxId = 0;
  batches = 0;

  async recover(options: RecoverOptions = {}): Promise<RecoveredState> {
    const messages = new Map<string, RecoveredQueueMessage[]>();
    const budget = options.residentBytes ?? Infinity;
    for (const [queue, ids] of this.queues) {
      const list: RecoveredQueueMessage[] = [];
      let bytes = 0;
      for (const [id, delivered] of ids) {
        const m = this.messages.get(id);
        if (m === undefined) continue;
        const size = m.message.body.length;
        const priority = m.message.properties.priority ?? 0;
        bytes += size;
        // Past the budget it plays a store that left the body on disk, so the core's paging is exercised.
        list.push({ id, size, priority, message: bytes <= budget ? m.message : undefined, delivered });
      }
      messages.set(queue, list);
    }
    return { topology: [...this.topology.values()], messages, maxMessageId: this.maxId };
  }

  write(ops: StoreOp[], durable: () => void): void {
    this.batches++;
    for (const op of ops) this.apply(op);
    durable();
  }

  /** Answers on a later turn, as a store reading files would. */
  read(ids: readonly number[]): Promise<Map<number, StoredMessage>> {
    const out = new Map<number, StoredMessage>();
    for (const id of ids) {
      const m = this.messages.get(id);
      if (m !== undefined) out.set(id, m.message);
    }
    return new Promise((resolve) => setImmediate(() => resolve(out)));
  }

  async close(): Promise<void> {}

  /** Number of distinct message bodies held (for tests). */
  get messageCount(): number {
    return this.messages.size;
  }

  private apply(op: StoreOp): void {
    switch (op.op) {
      case 'put':
        this.topology.set(op.key, op.record);
        return;
      case 'delete':
        this.topology.delete(op.key);
        return;
      case 'enqueue': {
        let q = this.queues.get(op.queue);
        if (q === undefined) this.queues.set(op.queue, (q = new Map()));
        q.set(op.id, false);
        const m = this.messages.get(op.id);
        if (m !== undefined) m.refs++;
        else if (op.message !== undefined) this.messages.set(op.id, { message: op.message, refs: 1 });
        if (op.id > this.maxId) this.maxId = op.id;
        return;
      }
      case 'delivered': {
        const q = this.queues.get(op.queue);
        if (q?.has(op.id) === true) q.set(op.id, true);
        return;
      }
      case 'settle': {
        const q = this.queues.get(op.queue);
        if (q?.delete(op.id) === true) this.unref(op.id);
        return;
      }
      case 'drop-queue': {
        const q = this.queues.get(op.queue);
        if (q === undefined) return;
        for (const id of q.keys()) this.unref(id);
        this.queues.delete(op.queue);
        return;
      }
    }
  }

  private unref(id: number): void {
    const m = this.messages.get(id);
    if (m !== undefined && --m.refs === 0) this.messages.delete(id);
  }
}
