/**
 * Overload is back-pressure, not a crash: a real `warren start` with a small V8 heap, a publisher that never
 * stops and nobody consuming. Before the heap alarm the same stream ended in "JavaScript heap out of memory".
 */
import amqp from 'amqplib';
import { ALL_PORTS_FREE, portOf, warrenSandbox } from './warren-process';

const sandbox = warrenSandbox('warren-overload-');

test('a publisher with no consumer is blocked (connection.blocked) before the heap runs out; draining unblocks it', async () => {
  const proc = sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', sandbox.dir], {
    NODE_OPTIONS: '--max-old-space-size=96',
    WARREN_LIMITS_HEAP_HIGH_WATERMARK: '0.5',
    WARREN_LIMITS_MEMORY_CHECK_INTERVAL_MS: '50',
  });
  await proc.waitForLine('warren started');
  const port = portOf(proc, 'amqp');
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const events: string[] = [];
  conn.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
  conn.on('unblocked', () => events.push('unblocked'));
  const ch = await conn.createChannel();
  await ch.assertQueue('backlog', { durable: false });

  // Publish until the broker says stop; amqplib's write buffer fills once the broker stops reading.
  const body = Buffer.alloc(64, 0x61);
  let sent = 0;
  const giveUp = Date.now() + 30_000;
  while (events.length === 0) {
    if (Date.now() > giveUp) {
      const seen = proc.lines.map((l) => `${String(l.msg)} ${JSON.stringify(l['reason'] ?? '')}`).slice(-8);
      throw new Error(`not blocked after ${sent} messages in 30 s; broker log: ${seen.join(' | ')}`);
    }
    for (let i = 0; i < 1000; i++) {
      sent++;
      if (!ch.sendToQueue('backlog', body)) {
        await new Promise<void>((resolve) => {
          const done = (): void => resolve();
          ch.once('drain', done);
          conn.once('blocked', done);
          // A broker that died must fail the test with its reason, not leave it waiting for a drain.
          void proc.exited.then(done);
          setTimeout(done, 1000);
        });
        break;
      }
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (proc.child.exitCode !== null) throw new Error(`the broker died: ${proc.stderr().slice(0, 500)}`);
  }
  expect(events[0]).toBe('blocked: low on memory');
  expect(sent).toBeGreaterThan(10_000);
  const alarm = proc.lines.find((l) => l.msg === 'memory alarm raised: publishers are blocked');
  expect(String(alarm?.['reason'])).toMatch(/heap .* above 0\.5 of the V8 heap limit/);
  // Still alive and serving: the blocked connection is no longer read (as in RabbitMQ), but one that never
  // published is, so an operator's client can look at the backlog and purge it; the publisher is then let go.
  const admin = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const ach = await admin.createChannel();
  const { messageCount } = await ach.checkQueue('backlog');
  expect(messageCount).toBeGreaterThan(10_000);
  await ach.purgeQueue('backlog');
  const deadline = Date.now() + 20_000;
  while (!events.includes('unblocked') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(events).toContain('unblocked');
  expect(proc.child.exitCode).toBeNull();
  await admin.close();
  await conn.close();
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
}, 60_000);
