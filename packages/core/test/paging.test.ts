import { MemoryStore, type StoredMessage } from '@warren/core';
import { CoreClient, startBroker, waitFor } from '@warren/testkit';

/**
 * A store whose reads of paged-out messages answer only when the test says so, to put the queue's two kinds of
 * reads (paging in for consumers, reading bodies to dead-letter) in the order that matters.
 */
class GatedStore extends MemoryStore {
  private readonly waiting: (() => void)[] = [];

  override read(ids: readonly number[]): Promise<Map<number, StoredMessage>> {
    return new Promise((resolve) => this.waiting.push(() => void super.read(ids).then(resolve)));
  }

  get pendingReads(): number {
    return this.waiting.length;
  }

  /** Answers the oldest read (`latest`: the newest). */
  answer(latest = false): void {
    const next = latest ? this.waiting.pop() : this.waiting.shift();
    if (next === undefined) throw new Error('no read is waiting');
    next();
  }
}

describe('a paged-out durable queue', () => {
  it('dead-letters expired messages in queue order while earlier bodies are still being read', async () => {
    let now = 1_000;
    const store = new GatedStore();
    // Room for two 2-byte bodies: m0 and m1 stay in memory, m2..m5 are paged out as they arrive.
    const broker = await startBroker({ store, clock: () => now, limits: { queueResidentBytes: 4 } });
    const client = new CoreClient(broker);
    client.declareQueue('dead');
    client.declareQueue(
      'ttl',
      { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' },
      { durable: true },
    );
    for (let i = 0; i < 6; i++) {
      client.publish('', 'ttl', `m${i}`, { deliveryMode: 2, expiration: i <= 2 ? '10' : '20' });
    }
    const queue = broker.getVhost('/')?.queues.get('ttl');
    const dead = broker.getVhost('/')?.queues.get('dead');
    expect(queue?.ready.pagedCount).toBe(4);

    // m0..m2 expire. m2's body is on disk: its dead-letter read starts, and with memory free the queue also
    // starts reading m3 back for consumers.
    now += 15;
    await waitFor(() => store.pendingReads === 2, 5000, 'the dead-letter read of m2 and the page-in of m3');
    store.answer(true); // the page-in; m2's dead-letter read stays unanswered
    await waitFor(() => queue?.ready.pagedCount === 2, 5000, 'm3 read back into memory');

    // m3..m5 expire while m2's body is still on its way: m3 is in memory, yet it must wait behind m2.
    now += 10;
    await waitFor(() => queue?.ready.length === 0, 5000, 'm3..m5 expired');
    await waitFor(
      () => {
        while (store.pendingReads > 0) store.answer();
        return dead?.messageCount === 6;
      },
      5000,
      'every message dead-lettered',
    );
    expect(client.getAll('dead')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    await broker.close();
  });
});
