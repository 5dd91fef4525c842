#!/usr/bin/env node
/**
 * Stream append and read-from-first msgs/s: a fresh `warren start` child (warren-child.mjs), one stream
 * (x-queue-type=stream), one producer publishing `--messages` (200,000) bodies of `--size` (1 KiB) octets with
 * publisher confirms (at most `--window` (2,000) unconfirmed), then one consumer from x-stream-offset=first
 * with prefetch `--prefetch` (2,000), acking every `--ack-every` (500) with multiple=true, reading them all.
 * Prints both rates, and the broker's peak RSS (from /proc) during each phase: a stream larger than the
 * resident budget keeps only its tail in memory and reads the rest back from the journal.
 *
 *   npm run build && npm run bench:stream -- [--messages N] [--size B] [--persistent] [--runs R]
 *
 * Both the publisher and the consumer are warren-perf's AMQP client (no amqplib on the hot path).
 */
import { readFileSync } from 'node:fs';
import amqpCodec from '@warren/amqp';
import perfLib from '@warren/perf';
import { median, numericOption, startBroker } from './warren-child.mjs';

const { BASIC_ACK, BASIC_CONSUME, BASIC_QOS, CONFIRM_SELECT, QUEUE_DECLARE } = amqpCodec;
const { AmqpClient, PublishFrames } = perfLib;

const MESSAGES = numericOption('--messages', 200_000);
const SIZE = numericOption('--size', 1024);
const WINDOW = numericOption('--window', 2000);
const PREFETCH = numericOption('--prefetch', 2000);
const ACK_EVERY = numericOption('--ack-every', 500);
const RUNS = numericOption('--runs', 1);
const PERSISTENT = process.argv.includes('--persistent');

/** Samples the broker's RSS every 100 ms; stop() gives the peak in MiB. */
function rssSampler(pid) {
  let peak = 0;
  const read = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m !== null) peak = Math.max(peak, Number(m[1]) / 1024);
  };
  read();
  const timer = setInterval(read, 100);
  return () => {
    clearInterval(timer);
    read();
    return Math.round(peak);
  };
}

async function connect(port, name) {
  return AmqpClient.connect({
    host: '127.0.0.1',
    port,
    user: 'guest',
    pass: 'guest',
    vhost: '/',
    frameMax: 131072,
    name,
  });
}

/** Publishes MESSAGES with confirms; resolves with msgs/s once the last confirm came. */
async function append(port, queue) {
  const c = await connect(port, 'stream-bench producer');
  await c.rpc({ id: CONFIRM_SELECT, noWait: false });
  const frames = new PublishFrames(c.writer, {
    exchange: '',
    routingKeys: [queue],
    size: SIZE,
    persistent: PERSISTENT,
    producerId: 1,
  });
  const batch = frames.autoBatch();
  let published = 0;
  let confirmed = 0;
  const started = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    c.onError = reject;
    const pump = () => {
      while (published < MESSAGES && published - confirmed < WINDOW) {
        const n = Math.min(batch, MESSAGES - published, WINDOW - (published - confirmed));
        const ok = c.write(frames.batch(n, published, 0, 0));
        published += n;
        if (!ok) {
          c.socket.once('drain', pump);
          return;
        }
      }
    };
    c.onConfirm = (tag, multiple, nack) => {
      if (nack) return reject(new Error(`publish ${tag} nacked`));
      confirmed = multiple ? Math.max(confirmed, tag) : confirmed + 1;
      if (confirmed >= MESSAGES) resolve();
      else pump();
    };
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await c.close();
  return MESSAGES / seconds;
}

/** One consumer from 'first' reads the whole stream; resolves with msgs/s. */
async function readAll(port, queue) {
  const c = await connect(port, 'stream-bench consumer');
  await c.rpc({ id: BASIC_QOS, prefetchSize: 0, prefetchCount: PREFETCH, global: false });
  let consumed = 0;
  let sinceAck = 0;
  const started = process.hrtime.bigint();
  const done = new Promise((resolve, reject) => {
    c.onError = reject;
    c.onDelivery = (tag) => {
      consumed++;
      if (++sinceAck >= ACK_EVERY || consumed === MESSAGES) {
        sinceAck = 0;
        c.send({ id: BASIC_ACK, deliveryTag: tag, multiple: true });
      }
      if (consumed === MESSAGES) resolve();
    };
  });
  await c.rpc({
    id: BASIC_CONSUME,
    ticket: 0,
    queue,
    consumerTag: 'bench',
    noLocal: false,
    noAck: false,
    exclusive: false,
    noWait: false,
    arguments: { 'x-stream-offset': 'first' },
  });
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await c.close();
  return consumed / seconds;
}

const appendRates = [];
const readRates = [];
for (let run = 0; run < RUNS; run++) {
  const broker = await startBroker('warren-stream-bench-');
  try {
    const setup = await connect(broker.amqp, 'stream-bench setup');
    const queue = `bench-stream-${run}`;
    await setup.rpc({
      id: QUEUE_DECLARE,
      ticket: 0,
      queue,
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: false,
      noWait: false,
      arguments: { 'x-queue-type': 'stream' },
    });
    await setup.close();
    let stopRss = rssSampler(broker.pid);
    const appendRate = await append(broker.amqp, queue);
    const appendRss = stopRss();
    stopRss = rssSampler(broker.pid);
    const readRate = await readAll(broker.amqp, queue);
    const readRss = stopRss();
    appendRates.push(appendRate);
    readRates.push(readRate);
    console.log(
      `run ${run + 1}: append ${Math.round(appendRate)} msgs/s (peak RSS ${appendRss} MiB), ` +
        `read from first ${Math.round(readRate)} msgs/s (peak RSS ${readRss} MiB)`,
    );
  } finally {
    await broker.stop();
  }
}
const what = `${MESSAGES} x ${SIZE} B ${PERSISTENT ? 'persistent' : 'transient'}, confirms (window ${WINDOW})`;
console.log(
  `stream append and read-from-first msgs/s, ${what}: append ${Math.round(median(appendRates))}, ` +
    `read ${Math.round(median(readRates))} (median of ${RUNS})`,
);
