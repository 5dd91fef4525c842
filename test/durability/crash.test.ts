import { startBrokerChild, type BrokerChild } from './broker-child';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Journal } from '@warren/journal';

/*
 * kill -9 under two streams of confirmed publishes at once: AMQP persistent messages on a confirm channel and
 * STOMP persistent SENDs with receipt headers. Every confirmed or receipted message must be there after a
 * restart, and nothing twice. Each trial restarts on the same data directory, so recovery also runs over the
 * previous trials' segments (cut tails included). WARREN_CRASH_TRIALS raises the count for a longer run;
 * WARREN_CRASH_SUMMARY names a file that receives the run's totals as JSON (kill9-trials.sh prints them).
 */
const TRIALS = Number(process.env['WARREN_CRASH_TRIALS'] ?? 20);
const SUMMARY_FILE = process.env['WARREN_CRASH_SUMMARY'];
const AMQP_QUEUE = 'crash';
const STOMP_QUEUE = 'crash-stomp';
const WINDOW = 400;

/** Takes every message out of both queues, so the next trial starts from empty ones. */
async function drainAll(port: number): Promise<{ amqp: number[]; stomp: number[] }> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`, { noDelay: true });
  const ch = await conn.createChannel();
  const drain = async (queue: string): Promise<number[]> => {
    // Declared here too, so the STOMP queue exists (as /queue/ declares it: durable, no arguments) before the
    // first SEND, and a trial killed before any SEND still finds it.
    await ch.assertQueue(queue, { durable: true });
    const ids: number[] = [];
    for (;;) {
      // No-ack gets: a separate basic.ack before each get meets Nagle + delayed ACK (40 ms a message).
      const m = await ch.get(queue, { noAck: true });
      if (m === false) break;
      ids.push(Number(m.content.toString()));
    }
    return ids;
  };
  const result = { amqp: await drain(AMQP_QUEUE), stomp: await drain(STOMP_QUEUE) };
  await ch.close();
  await conn.close();
  return result;
}

/** What one stream published before the kill: ids confirmed (or receipted), and ids sent at all. */
interface Stream {
  confirmed: Set<number>;
  sent: Set<number>;
}

interface TrialPublished {
  amqp: Stream;
  stomp: Stream;
}

/**
 * A STOMP 1.2 publisher on a raw socket: persistent SENDs, each with a receipt header, a window of them
 * unanswered at a time. A receipt for a persistent SEND means the message is on disk.
 */
class StompPublisher {
  readonly stream: Stream = { confirmed: new Set(), sent: new Set() };
  /** An ERROR frame, or the connection lost while we still published: the trial cannot go on. */
  failure: string | undefined;
  private buffered = '';
  private answered = 0;
  private stopped = false;

  private constructor(
    private readonly socket: Socket,
    /** Hands out the message ids, shared with the AMQP stream. */
    private readonly next: () => number,
    private readonly onProgress: () => void,
  ) {}

  static async open(port: number, next: () => number, onProgress: () => void): Promise<StompPublisher> {
    const socket = connectTcp({ host: '127.0.0.1', port, noDelay: true });
    socket.on('error', () => {});
    const p = new StompPublisher(socket, next, onProgress);
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      socket.on('close', () => {
        if (!connected) reject(new Error('STOMP connection closed before CONNECTED'));
        else if (!p.stopped) p.fail('connection closed');
      });
      socket.on('data', (chunk: Buffer) => {
        p.buffered += chunk.toString('latin1');
        for (let end = p.buffered.indexOf('\0'); end >= 0; end = p.buffered.indexOf('\0')) {
          // Frames may be preceded by EOLs (STOMP 1.2 allows them between frames).
          const frame = p.buffered.slice(0, end).replace(/^[\r\n]+/, '');
          p.buffered = p.buffered.slice(end + 1);
          if (frame.startsWith('CONNECTED\n')) {
            connected = true;
            resolve();
          } else {
            p.onFrame(frame);
          }
        }
      });
      socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0');
    });
    return p;
  }

  /** Sends until WINDOW SENDs are unanswered, in one write. */
  pump(): void {
    let frames = '';
    while (!this.stopped && this.stream.sent.size - this.answered < WINDOW) {
      const n = this.next();
      this.stream.sent.add(n);
      // The receipt id is the message id: receipts come back in the order of the SENDs.
      frames +=
        `SEND\ndestination:/queue/${STOMP_QUEUE}\npersistent:true\nreceipt:${n}\n` +
        `content-length:${String(n).length}\n\n${n}\0`;
    }
    if (frames !== '') this.socket.write(frames);
  }

  /** The broker is about to be killed: what happens to the socket now is expected. */
  stop(): void {
    this.stopped = true;
  }

  private onFrame(frame: string): void {
    if (frame.startsWith('ERROR\n')) {
      this.fail(frame);
      return;
    }
    const id = /\nreceipt-id:(\d+)/.exec(frame)?.[1];
    if (!frame.startsWith('RECEIPT\n') || id === undefined || !this.stream.sent.has(Number(id))) {
      this.fail(`unexpected frame: ${frame}`);
      return;
    }
    this.stream.confirmed.add(Number(id));
    this.answered++;
    this.onProgress();
    if (!this.stopped && this.stream.sent.size - this.answered < WINDOW / 2) setImmediate(() => this.pump());
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.stopped = true;
    this.onProgress();
  }
}

/**
 * Publishes numbered persistent messages over AMQP (confirms) and STOMP (receipts) at once until each stream
 * has its quota of confirmations, then kills the broker with SIGKILL while later publishes of both are still
 * in flight.
 */
async function publishAndKill(
  child: BrokerChild,
  first: number,
  stopAfter: { amqp: number; stomp: number },
): Promise<TrialPublished> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${child.amqpPort}`, { noDelay: true });
  conn.on('error', () => {});
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => {});
  await ch.assertQueue(AMQP_QUEUE, { durable: true });
  const amqpStream: Stream = { confirmed: new Set(), sent: new Set() };
  let id = first;
  const next = (): number => id++;
  let killed = false;
  let resolveKilled = (): void => {};
  let rejectKilled = (_err: Error): void => {};
  const done = new Promise<void>((resolve, reject) => {
    resolveKilled = resolve;
    rejectKilled = reject;
  });
  let stomp: StompPublisher | undefined = undefined;
  const maybeKill = (): void => {
    if (killed || stomp === undefined) return;
    if (stomp.failure !== undefined) {
      killed = true;
      child.proc.kill('SIGKILL');
      rejectKilled(new Error(`STOMP publisher failed: ${stomp.failure}`));
      return;
    }
    if (amqpStream.confirmed.size >= stopAfter.amqp && stomp.stream.confirmed.size >= stopAfter.stomp) {
      killed = true;
      // Before the kill, so the publisher takes its socket's close for what it is.
      stomp.stop();
      child.proc.kill('SIGKILL');
      resolveKilled();
    }
  };
  stomp = await StompPublisher.open(child.stompPort, next, maybeKill);
  conn.on('close', () => (killed = true));

  let answered = 0;
  // A window of unconfirmed publishes keeps the stream going without flooding the client's buffers.
  const pump = (): void => {
    while (!killed && amqpStream.sent.size - answered < WINDOW) {
      const n = next();
      amqpStream.sent.add(n);
      ch.sendToQueue(AMQP_QUEUE, Buffer.from(String(n)), { persistent: true }, (e: unknown) => {
        answered++;
        if (e === null || e === undefined) amqpStream.confirmed.add(n);
        maybeKill();
        if (!killed && amqpStream.sent.size - answered < WINDOW / 2) setImmediate(pump);
      });
    }
  };
  pump();
  stomp.pump();
  await done;
  await child.exited;
  return { amqp: amqpStream, stomp: stomp.stream };
}

/** What one stream's restart showed, against what it published before the kill. */
function check(
  stream: Stream,
  recovered: number[],
): { lost: number[]; duplicated: number[]; unknown: number[] } {
  const seen = new Set<number>();
  const duplicated: number[] = [];
  for (const i of recovered) {
    if (seen.has(i)) duplicated.push(i);
    seen.add(i);
  }
  return {
    lost: [...stream.confirmed].filter((i) => !seen.has(i)),
    duplicated,
    unknown: recovered.filter((i) => !stream.sent.has(i)),
  };
}

describe('kill -9 under confirmed publishes', () => {
  it(
    `loses no confirmed AMQP message or receipted STOMP message and duplicates none, over ${TRIALS} crashes`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'warren-crash-'));
      const t0 = Date.now();
      const totals = {
        trials: 0,
        amqpConfirmed: 0,
        stompReceipted: 0,
        // Sent but unconfirmed when the broker died, and there after the restart: allowed (at-least-once).
        unconfirmedRecovered: 0,
        lost: 0,
        duplicates: 0,
        unknown: 0,
      };
      const problems: string[] = [];
      let child: BrokerChild | undefined;
      try {
        let next = 1;
        let pending: TrialPublished | undefined;
        for (let trial = 0; trial <= TRIALS; trial++) {
          child = await startBrokerChild(dir, 1024 * 1024);
          const recovered = await drainAll(child.amqpPort);
          if (pending !== undefined) {
            for (const [name, stream, ids] of [
              ['AMQP', pending.amqp, recovered.amqp],
              ['STOMP', pending.stomp, recovered.stomp],
            ] as const) {
              const { lost, duplicated, unknown } = check(stream, ids);
              totals.lost += lost.length;
              totals.duplicates += duplicated.length;
              totals.unknown += unknown.length;
              totals.unconfirmedRecovered += ids.filter((i) => !stream.confirmed.has(i)).length;
              if (lost.length + duplicated.length + unknown.length > 0) {
                problems.push(
                  `trial ${trial} ${name}: lost ${JSON.stringify(lost)}, ` +
                    `twice ${JSON.stringify(duplicated)}, never sent ${JSON.stringify(unknown)}`,
                );
              }
            }
          }
          if (trial === TRIALS) break;
          // A different kill point each trial and stream: after 1 to ~2000 confirms (receipts) of each.
          const quota = (): number => 1 + Math.floor(Math.random() * Math.random() * 2000);
          pending = await publishAndKill(child, next, { amqp: quota(), stomp: quota() });
          totals.trials++;
          totals.amqpConfirmed += pending.amqp.confirmed.size;
          totals.stompReceipted += pending.stomp.confirmed.size;
          next += pending.amqp.sent.size + pending.stomp.sent.size;
          child = undefined;
        }
      } finally {
        if (child !== undefined) {
          child.proc.kill('SIGKILL');
          await child.exited;
        }
        await rm(dir, { recursive: true, force: true });
        if (SUMMARY_FILE !== undefined) {
          await writeFile(SUMMARY_FILE, JSON.stringify({ ...totals, seconds: (Date.now() - t0) / 1000 }));
        }
      }
      expect(problems).toEqual([]);
    },
    // About two seconds a trial on a 2-vCPU machine; the rest is headroom.
    60_000 + TRIALS * 10_000,
  );
});

describe('one broker per data directory', () => {
  it('refuses a second broker on a directory in use, and takes over the lock of a killed one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warren-lock-'));
    const child = await startBrokerChild(dir, 1024 * 1024);
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
