#!/usr/bin/env node
/**
 * Queue-stream rates on a local 3-server cluster (R3, file storage): publish with confirms (each publish waits
 * for its PubAck, `--window` (256) in flight, one connection), then consume + ack with one consume loop of
 * credit `--credit` (1000) refilled one per ack, on another connection. Bodies are Warren envelopes of
 * `--size` (1024) bytes. Prints msgs/s of both phases, the median of `--runs` (3), each on a fresh stream.
 *
 *   npm run build && node packages/cluster/bench/queue-stream.mjs [--messages N] [--size B] [--window W]
 *                                                                   [--credit C] [--runs R] [--replicas R]
 * Uses the built dist (packages/cluster/dist).
 */
import { cpus } from 'node:os';
import clusterLib from '@warren/cluster';

const { connectCluster, encodeEnvelope, QueueStream, startNatsCluster } = clusterLib;

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const MESSAGES = option('--messages', 50_000);
const SIZE = option('--size', 1024);
const WINDOW = option('--window', 256);
const CREDIT = option('--credit', 1000);
const RUNS = option('--runs', 3);
const REPLICAS = option('--replicas', 3);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** msgs/s since `started`, and this process's CPU per message (the client's share of the 2 cores). */
function rate(started, cpu) {
  const used = process.cpuUsage(cpu);
  return {
    perSecond: MESSAGES / (Number(process.hrtime.bigint() - started) / 1e9),
    cpuUs: (used.user + used.system) / MESSAGES,
  };
}

const show = (r) => `${Math.round(r.perSecond)} msgs/s (client ${r.cpuUs.toFixed(1)} us CPU/msg)`;

async function publishAll(qs) {
  const payload = encodeEnvelope({
    exchange: '',
    routingKey: qs.queue,
    properties: { deliveryMode: 2 },
    body: Buffer.alloc(SIZE, 0x61),
  });
  let next = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const worker = async () => {
    while (next < MESSAGES) {
      const i = next++;
      await qs.publish(payload, `b-${i}`, { retryForMs: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  return rate(started, cpu);
}

function consumeAll(qs) {
  return new Promise((resolve, reject) => {
    let got = 0;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const h = qs.consume({
      credit: CREDIT,
      onDelivery: (d) => {
        d.ack();
        if (++got === MESSAGES) {
          h.stop();
          resolve(rate(started, cpu));
        } else h.addCredit(1);
      },
      onError: (err) => {
        h.stop();
        reject(err);
      },
    });
  });
}

const cluster = await startNatsCluster({ servers: 3 });
try {
  await cluster.ready();
  const producer = await connectCluster({ servers: cluster.urls, name: 'bench producer' });
  const consumer = await connectCluster({ servers: cluster.urls, name: 'bench consumer' });
  const pub = [];
  const con = [];
  for (let r = 0; r < RUNS; r++) {
    const options = { vhost: '/', queue: `bench-${r}`, replicas: REPLICAS, ackWaitMs: 30_000 };
    const qs = await QueueStream.ensure(producer, options);
    const qc = await QueueStream.ensure(consumer, options);
    pub.push(await publishAll(qs));
    con.push(await consumeAll(qc));
    process.stdout.write(`run ${r + 1}: publish ${show(pub[r])}, consume+ack ${show(con[r])}\n`);
    await qs.delete();
  }
  process.stdout.write(
    `${MESSAGES} x ${SIZE} B, R${REPLICAS}, window ${WINDOW}, credit ${CREDIT}, ${cpus().length} cores ` +
      `(${cpus()[0]?.model ?? '?'}): publish ${Math.round(median(pub.map((r) => r.perSecond)))} msgs/s, ` +
      `consume+ack ${Math.round(median(con.map((r) => r.perSecond)))} msgs/s (medians of ${RUNS})\n`,
  );
  await producer.close();
  await consumer.close();
} finally {
  await cluster.stop();
}
