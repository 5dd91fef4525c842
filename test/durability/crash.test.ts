import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Journal } from '@warren/journal';

/*
 * kill -9 under a stream of confirmed publishes: every confirmed message must be there after a restart, and
 * nothing twice. Each trial restarts on the same data directory, so recovery also runs over the previous
 * trials' segments (cut tails included). WARREN_CRASH_TRIALS raises the count for a longer run.
 */
const TRIALS = Number(process.env['WARREN_CRASH_TRIALS'] ?? 20);
const QUEUE = 'crash';
const WINDOW = 400;

interface Child {
  proc: ChildProcess;
  amqpPort: number;
  exited: Promise<void>;
}

async function startChild(dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [join(__dirname, 'broker-process.js'), dir, String(1024 * 1024)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const amqpPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined)
        resolve((JSON.parse(line) as { amqpPort: number }).amqpPort);
    });
    void exited.then(() => reject(new Error(`broker exited before listening: ${err}`)));
  });
  return { proc, amqpPort, exited };
}

/** Takes every message out of the queue, so the next trial starts from an empty one. */
async function drainAll(port: number): Promise<number[]> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`, { noDelay: true });
  const ch = await conn.createChannel();
  await ch.assertQueue(QUEUE, { durable: true });
  const ids: number[] = [];
  for (;;) {
    // No-ack gets: a separate basic.ack before each get meets Nagle + delayed ACK (40 ms a message).
    const m = await ch.get(QUEUE, { noAck: true });
    if (m === false) break;
    ids.push(Number(m.content.toString()));
  }
  await ch.close();
  await conn.close();
  return ids;
}

/**
 * Publishes numbered persistent messages until `stopAfter` confirms arrived, then kills the broker with
 * SIGKILL while later publishes are still in flight. Resolves with the confirmed and the attempted ids.
 */
async function publishAndKill(
  child: Child,
  first: number,
  stopAfter: number,
): Promise<{ confirmed: Set<number>; sent: Set<number> }> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${child.amqpPort}`, { noDelay: true });
  conn.on('error', () => {});
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => {});
  await ch.assertQueue(QUEUE, { durable: true });
  const confirmed = new Set<number>();
  const sent = new Set<number>();
  let killed = false;
  conn.on('close', () => (killed = true));
  await new Promise<void>((resolve) => {
    let id = first;
    let answered = 0;
    // A window of unconfirmed publishes keeps the stream going without flooding the client's buffers.
    const pump = (): void => {
      while (!killed && sent.size - answered < WINDOW) {
        const n = id++;
        sent.add(n);
        ch.sendToQueue(QUEUE, Buffer.from(String(n)), { persistent: true }, (e: unknown) => {
          answered++;
          if (e === null || e === undefined) confirmed.add(n);
          if (confirmed.size >= stopAfter && !killed) {
            killed = true;
            child.proc.kill('SIGKILL');
            resolve();
          }
          if (!killed && sent.size - answered < WINDOW / 2) setImmediate(pump);
        });
      }
    };
    pump();
  });
  await child.exited;
  return { confirmed, sent };
}

describe('kill -9 under confirmed publishes', () => {
  it(`loses no confirmed message and duplicates none, over ${TRIALS} crashes`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warren-crash-'));
    let child: Child | undefined;
    try {
      let next = 1;
      let pending: { confirmed: Set<number>; sent: Set<number> } | undefined;
      for (let trial = 0; trial <= TRIALS; trial++) {
        child = await startChild(dir);
        const ids = await drainAll(child.amqpPort);
        if (pending !== undefined) {
          const seen = new Set(ids);
          expect(seen.size).toBe(ids.length);
          const missing = [...pending.confirmed].filter((i) => !seen.has(i));
          expect(missing).toEqual([]);
          const unknown = ids.filter((i) => !pending?.sent.has(i));
          expect(unknown).toEqual([]);
        }
        if (trial === TRIALS) break;
        // A different kill point each trial: after 1 to ~2000 confirms.
        const stopAfter = 1 + Math.floor(Math.random() * Math.random() * 2000);
        pending = await publishAndKill(child, next, stopAfter);
        next += pending.sent.size;
        child = undefined;
      }
    } finally {
      if (child !== undefined) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('one broker per data directory', () => {
  it('refuses a second broker on a directory in use, and takes over the lock of a killed one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warren-lock-'));
    const child = await startChild(dir);
    try {
      // Two processes appending to the same segments would corrupt each other: the second must not start.
      await expect(Journal.open({ dir })).rejects.toThrow(`in use by process ${child.proc.pid}`);
      child.proc.kill('SIGKILL');
      await child.exited;
      // The dead broker never released its lock; it is stale now and the next broker starts.
      const j = await Journal.open({ dir });
      await j.close();
      const again = await Journal.open({ dir });
      await again.close();
    } finally {
      child.proc.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
