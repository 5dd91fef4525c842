import fc from 'fast-check';
import { MemoryStore, type Broker } from '@warren/core';
import { CoreClient, settle, startBroker, waitFor, type Received } from '@warren/testkit';

/**
 * Whatever consumers do — ack, nack with or without requeue, reject, cancel, close their channel, recover —
 * every published message ends up settled exactly once (acked, or rejected without requeue), and nothing is
 * delivered while another consumer still holds it.
 */
type Step =
  | { op: 'publish'; n: number }
  | { op: 'ack' | 'nackRequeue' | 'reject' | 'ackMultiple'; who: number; pick: number }
  | { op: 'cancel' | 'close' | 'recover' | 'resubscribe'; who: number }
  /** Lets a turn pass: store reads of paged-out messages complete in between other steps. */
  | { op: 'tick' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('publish' as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    op: fc.constantFrom('ack' as const, 'nackRequeue' as const, 'reject' as const, 'ackMultiple' as const),
    who: fc.integer({ min: 0, max: 2 }),
    pick: fc.nat(10),
  }),
  fc.record({
    op: fc.constantFrom('cancel' as const, 'close' as const, 'recover' as const, 'resubscribe' as const),
    who: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({ op: fc.constant('tick' as const) }),
);

interface Worker {
  client: CoreClient;
  received: Received[];
  open: Received[];
  tag: string | undefined;
}

/**
 * `paged`: a durable queue of persistent messages that keeps only ~2 of them in memory, so most wait in the
 * store and come back through asynchronous reads while the other steps go on.
 */
const configurations = [
  { name: 'in memory', paged: false },
  { name: 'paged out to the store past a tiny memory budget', paged: true },
];

describe.each(configurations)('no message is lost or duplicated ($name)', ({ paged }) => {
  test('across any sequence of ack/nack/requeue/reject/cancel/close/recover', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { maxLength: 40 }),
        fc.integer({ min: 0, max: 3 }),
        async (steps, prefetch) => {
          const broker: Broker = await startBroker(
            paged ? { store: new MemoryStore(), limits: { queueResidentBytes: 4 } } : {},
          );
          const admin = new CoreClient(broker);
          admin.declareQueue('work', {}, { durable: paged });
          const properties = paged ? { deliveryMode: 2 } : {};
          const settled = new Map<string, number>();
          const mark = (body: string): void => void settled.set(body, (settled.get(body) ?? 0) + 1);
          const holders = new Map<string, number>();
          let published = 0;

          const workers: Worker[] = [];
          const subscribe = (w: Worker): void => {
            w.client.channel.qos(prefetch, false);
            const { consumer, received } = w.client.consume('work');
            w.received = received;
            w.tag = consumer.tag;
          };
          const newWorker = (): Worker => {
            const w: Worker = { client: new CoreClient(broker), received: [], open: [], tag: undefined };
            subscribe(w);
            return w;
          };
          for (let i = 0; i < 3; i++) workers.push(newWorker());

          // Moves fresh deliveries into `open`, checking nobody else holds the same message.
          const collect = (): void => {
            for (const w of workers) {
              for (const r of w.received.splice(0)) {
                expect(holders.has(r.body)).toBe(false);
                holders.set(r.body, 1);
                w.open.push(r);
              }
            }
          };
          const drop = (w: Worker, rs: Received[]): void => {
            for (const r of rs) holders.delete(r.body);
            w.open = w.open.filter((o) => !rs.includes(o));
          };

          for (const s of steps) {
            collect();
            if (s.op === 'publish') {
              for (let i = 0; i < s.n; i++) admin.publish('', 'work', `m${published++}`, properties);
              continue;
            }
            if (s.op === 'tick') {
              await settle();
              continue;
            }
            const w = workers[s.who] as Worker;
            const target =
              w.open[
                s.op === 'ackMultiple' || s.op === 'ack' || s.op === 'nackRequeue' || s.op === 'reject'
                  ? s.pick % Math.max(1, w.open.length)
                  : 0
              ];
            switch (s.op) {
              case 'ack':
                if (target === undefined) break;
                w.client.channel.ack(target.tag);
                mark(target.body);
                drop(w, [target]);
                break;
              case 'ackMultiple': {
                if (target === undefined) break;
                const covered = w.open.filter((o) => o.tag <= target.tag);
                w.client.channel.ack(target.tag, true);
                covered.forEach((o) => mark(o.body));
                drop(w, covered);
                break;
              }
              case 'nackRequeue':
                if (target === undefined) break;
                w.client.channel.nack(target.tag, false, true);
                drop(w, [target]);
                break;
              case 'reject':
                if (target === undefined) break;
                w.client.channel.reject(target.tag, false);
                mark(target.body);
                drop(w, [target]);
                break;
              case 'cancel':
                if (w.tag !== undefined) w.client.channel.cancel(w.tag);
                w.tag = undefined;
                break;
              case 'resubscribe':
                if (w.tag === undefined) subscribe(w);
                break;
              case 'recover':
                w.client.channel.recover();
                drop(w, [...w.open]);
                break;
              case 'close': {
                drop(w, [...w.open]);
                w.client.close();
                workers[s.who] = newWorker();
                break;
              }
            }
          }

          // Drain: one fresh auto-acking consumer takes whatever is left after everyone else leaves.
          collect();
          for (const w of workers) {
            drop(w, [...w.open]);
            w.client.close();
          }
          const last = new CoreClient(broker);
          const { received } = last.consume('work', { noAck: true });
          const queue = broker.getVhost('/')?.queues.get('work');
          await waitFor(() => queue?.messageCount === 0, 5000, 'the queue to drain');
          await settle();
          for (const r of received) mark(r.body);

          for (let i = 0; i < published; i++) expect(settled.get(`m${i}`)).toBe(1);
          expect(settled.size).toBe(published);
          await broker.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
