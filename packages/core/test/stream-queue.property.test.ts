import fc from 'fast-check';
import { MemoryStore, StreamQueue, type FieldValue } from '@warren/core';
import { CoreClient, settle, startBroker, waitFor, type Received } from '@warren/testkit';

/**
 * Whatever consumers of a stream do — subscribe at any offset, ack some, cancel, close their channel — while
 * messages are appended, retention removes segments and old bodies are read back from the store: every
 * consumer sees offsets only going up with the body published at that offset, and once everyone is gone the
 * only bodies in memory are the stream's resident tail (every reference taken was given back).
 */
type Step =
  | { op: 'publish'; n: number }
  | { op: 'subscribe'; who: number; from: FieldValue; prefetch: number }
  | { op: 'ack'; who: number; pick: number }
  | { op: 'ackAll' | 'cancel' | 'close'; who: number }
  | { op: 'tick' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('publish' as const), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('subscribe' as const),
    who: fc.integer({ min: 0, max: 2 }),
    from: fc.oneof(fc.constantFrom<FieldValue>('first', 'last', 'next', '1h'), fc.nat(40)),
    prefetch: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({ op: fc.constant('ack' as const), who: fc.integer({ min: 0, max: 2 }), pick: fc.nat(10) }),
  fc.record({
    op: fc.constantFrom('ackAll' as const, 'cancel' as const, 'close' as const),
    who: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({ op: fc.constant('tick' as const) }),
);

interface Worker {
  client: CoreClient;
  /** Each subscription's deliveries, over every channel this worker had. */
  runs: Received[][];
  /** This channel's subscriptions' deliveries and the tags acked on it. */
  current: Received[][];
  acked: Set<number>;
  tag: string | undefined;
}

const openOf = (w: Worker): Received[] => w.current.flat().filter((r) => !w.acked.has(r.tag));

const offsetOf = (r: Received): number =>
  (r.delivery.queue.deliveryHeaders(r.delivery) as Record<string, number>)['x-stream-offset'] as number;

describe('a stream under any sequence of consumer actions', () => {
  it('delivers offsets in order with their bodies and gives back every reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), async (steps) => {
        // 4-byte bodies; 3 bodies resident; 8-byte segments; retention past 24 bytes.
        const broker = await startBroker({ store: new MemoryStore(), limits: { queueResidentBytes: 12 } });
        const publisher = new CoreClient(broker);
        publisher.declareQueue(
          's',
          { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 8, 'x-max-length-bytes': 24 },
          { durable: true },
        );
        const stream = broker.getVhost('/')?.queues.get('s');
        if (!(stream instanceof StreamQueue)) throw new Error('not a stream');
        let published = 0;
        const workers: Worker[] = [0, 1, 2].map(() => ({
          client: new CoreClient(broker),
          runs: [],
          current: [],
          acked: new Set<number>(),
          tag: undefined,
        }));
        for (const step of steps) {
          const w = 'who' in step ? (workers[step.who] as Worker) : undefined;
          switch (step.op) {
            case 'publish':
              for (let i = 0; i < step.n; i++) {
                publisher.publish('', 's', `b${String(published++).padStart(3, '0')}`);
              }
              break;
            case 'subscribe': {
              if (w === undefined || w.tag !== undefined) break;
              const c = w.client.consume('s', {
                prefetch: step.prefetch,
                arguments: { 'x-stream-offset': step.from },
              });
              w.tag = c.consumer.tag;
              w.runs.push(c.received);
              w.current.push(c.received);
              break;
            }
            case 'ack': {
              const open = w === undefined ? [] : openOf(w);
              if (w === undefined || open.length === 0) break;
              const r = open[step.pick % open.length] as Received;
              w.client.channel.ack(r.tag);
              w.acked.add(r.tag);
              break;
            }
            case 'ackAll': {
              if (w === undefined || openOf(w).length === 0) break;
              w.client.channel.ack(0, true);
              for (const r of openOf(w)) w.acked.add(r.tag);
              break;
            }
            case 'cancel':
              if (w?.tag !== undefined) w.client.channel.cancel(w.tag);
              if (w !== undefined) w.tag = undefined;
              break;
            case 'close':
              if (w === undefined) break;
              w.client.channel.close();
              w.client = new CoreClient(broker);
              w.tag = undefined;
              w.current = [];
              w.acked = new Set();
              break;
            case 'tick':
              await settle();
              break;
          }
        }
        await settle();
        // Every delivery carried the body published at its offset.
        // Within a subscription offsets only go up, and every delivery carried the body published at its offset.
        for (const w of workers) {
          for (const run of w.runs) {
            for (let k = 0; k < run.length; k++) {
              const r = run[k] as Received;
              expect(r.body).toBe(`b${String(offsetOf(r)).padStart(3, '0')}`);
              if (k > 0) expect(offsetOf(r)).toBeGreaterThan(offsetOf(run[k - 1] as Received));
            }
          }
        }
        // A reader from first gets the whole kept log, in order.
        const reader = new CoreClient(broker);
        const all = reader.consume('s', { prefetch: 1000, arguments: { 'x-stream-offset': 'first' } });
        await waitFor(() => all.received.length === stream.messageCount, 5000, 'the whole log');
        expect(all.received.map(offsetOf)).toEqual(
          Array.from({ length: stream.messageCount }, (_, k) => stream.firstOffset + k),
        );
        expect(stream.nextOffset).toBe(published);
        for (const w of workers) w.client.channel.close();
        reader.channel.close();
        await settle();
        expect(stream.outstanding).toBe(0);
        expect(broker.memory.used).toBe(stream.residentTailBytes);
        await broker.close();
      }),
      { numRuns: 150 },
    );
  });
});
