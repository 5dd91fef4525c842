import { Message, type MemorySample } from '../src';
import { CoreClient, startBroker } from '@warren/testkit';

const MiB = 1024 * 1024;

/** A process whose memory the test sets; the broker samples it only when told (interval 0). */
function fakeProcess(): { sample: MemorySample; probe: () => MemorySample } {
  const sample: MemorySample = {
    rss: 100 * MiB,
    heapUsed: 50 * MiB,
    heapLimit: 1000 * MiB,
    totalMemory: 1000 * MiB,
  };
  return { sample, probe: () => ({ ...sample }) };
}

describe('the memory alarm watches what the process really uses', () => {
  test('RSS above vm_memory_high_watermark (a fraction of the machine) blocks publishers; below it unblocks', async () => {
    const p = fakeProcess();
    const broker = await startBroker({
      memoryProbe: p.probe,
      limits: { vmMemoryHighWatermark: 0.4, memoryCheckIntervalMs: 0 },
    });
    const changes: boolean[] = [];
    broker.alarms.onChange((blocked) => changes.push(blocked));
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(false);
    p.sample.rss = 401 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(true);
    expect(broker.alarms.reason).toBe('low on memory');
    expect(broker.memory.reason).toMatch(/rss 401\.0 MiB above vm_memory_high_watermark 400\.0 MiB/);
    p.sample.rss = 399 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(false);
    expect(changes).toEqual([true, false]);
    await broker.close();
  });

  test('a watermark above 1 is a number of bytes', async () => {
    const p = fakeProcess();
    const broker = await startBroker({
      memoryProbe: p.probe,
      limits: { vmMemoryHighWatermark: 200 * MiB, memoryCheckIntervalMs: 0 },
    });
    p.sample.rss = 201 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(true);
    await broker.close();
  });

  test('a heap nearing V8’s limit blocks publishers before the process could die of it', async () => {
    const p = fakeProcess();
    const broker = await startBroker({
      memoryProbe: p.probe,
      limits: { heapHighWatermark: 0.75, memoryCheckIntervalMs: 0 },
    });
    p.sample.heapUsed = 760 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(true);
    expect(broker.memory.reason).toMatch(/heap 760\.0 MiB above 0\.75 of the V8 heap limit/);
    p.sample.heapUsed = 700 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(false);
    await broker.close();
  });

  test('message bodies still count on their own, and the alarm stays up while any mark is passed', async () => {
    const p = fakeProcess();
    const broker = await startBroker({
      memoryProbe: p.probe,
      limits: { memoryHighWatermark: 1000, memoryCheckIntervalMs: 0 },
    });
    const c = new CoreClient(broker);
    c.declareQueue('q');
    c.channel.publish('', Message.fromProperties('', 'q', {}, Buffer.alloc(1500)));
    expect(broker.alarms.blocked).toBe(true);
    p.sample.heapUsed = 900 * MiB;
    broker.memory.check();
    c.getAll('q'); // the bodies go: the heap mark still holds the alarm
    expect(broker.memory.used).toBe(0);
    expect(broker.alarms.blocked).toBe(true);
    p.sample.heapUsed = 10 * MiB;
    broker.memory.check();
    expect(broker.alarms.blocked).toBe(false);
    await broker.close();
  });
});
