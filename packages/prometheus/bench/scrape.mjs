#!/usr/bin/env node
/**
 * Prometheus scrapes against one fresh `warren start` child process:
 *
 *   scrape        10,000 queues declared; GET /metrics (aggregated) and /metrics/per-object (a series per
 *                 queue) timed, with the size of each answer (median of --repeat runs)
 *   data path     warren-perf (1 producer, 1 consumer, 1 KiB, --seconds each) alone, with /metrics scraped
 *                 every second, and with both endpoints scraped every second, alternated --repeat times
 *
 * Run from the repository root after `npm run build`:
 *
 *   node packages/prometheus/bench/scrape.mjs [--queues 10000] [--seconds 10] [--repeat 3]
 */
import amqp from 'amqplib';
import { median, numericOption, perf, startBroker, timed } from '../../perf/bench/warren-child.mjs';

const QUEUES = numericOption('--queues', 10_000);
const SECONDS = numericOption('--seconds', 10);
const REPEAT = numericOption('--repeat', 3);

/** One scrape: the body's size in bytes and its number of samples (lines that are not comments). */
const scrape = async (broker, path) => {
  const response = await fetch(`http://127.0.0.1:${broker.prometheus}${path}`);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const text = await response.text();
  return {
    bytes: Buffer.byteLength(text),
    samples: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
  };
};

async function scrapes(broker) {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqp}`);
  const channel = await connection.createChannel();
  const declared = [];
  for (let i = 0; i < QUEUES; i++) declared.push(channel.assertQueue(`bench-q-${i}`, { durable: false }));
  await Promise.all(declared);
  await connection.close();
  const rows = {};
  for (const path of ['/metrics', '/metrics/per-object']) {
    const times = [];
    let last;
    for (let i = 0; i < REPEAT; i++) times.push(await timed(async () => (last = await scrape(broker, path))));
    rows[path] = { ms: median(times), ...last };
  }
  return rows;
}

/** msgs/s while `paths` are scraped every second (none: alone). */
async function underScrape(broker, paths) {
  const timer =
    paths.length === 0
      ? undefined
      : setInterval(() => {
          Promise.all(paths.map((p) => scrape(broker, p))).catch((err) =>
            console.error(`scrape failed: ${err.message}`),
          );
        }, 1000);
  try {
    return await perf(broker, SECONDS);
  } finally {
    clearInterval(timer);
  }
}

/** The three loads alternated, so drift on the machine spreads over all of them alike. */
async function dataPath(broker) {
  const loads = {
    alone: [],
    '/metrics every second': [],
    '/metrics and /metrics/per-object every second': [],
  };
  const paths = [[], ['/metrics'], ['/metrics', '/metrics/per-object']];
  for (let i = 0; i < REPEAT; i++) {
    for (const [j, name] of Object.keys(loads).entries())
      loads[name].push(await underScrape(broker, paths[j]));
  }
  return Object.fromEntries(Object.entries(loads).map(([name, rates]) => [name, median(rates)]));
}

const broker = await startBroker('warren-scrape-bench-');
try {
  const rows = await scrapes(broker);
  console.log(`\n${QUEUES} queues, median of ${REPEAT}:\n`);
  console.log('| scrape | ms | samples | bytes |\n| --- | ---: | ---: | ---: |');
  for (const [path, r] of Object.entries(rows)) {
    console.log(`| GET ${path} | ${r.ms.toFixed(0)} | ${r.samples} | ${r.bytes} |`);
  }
  const loads = await dataPath(broker);
  console.log(
    `\nwarren-perf 1 producer, 1 consumer, 1 KiB, ${SECONDS} s, median of ${REPEAT} (${QUEUES} idle queues):\n`,
  );
  console.log('| data path | msgs/s | of alone |\n| --- | ---: | ---: |');
  for (const [name, rate] of Object.entries(loads)) {
    console.log(`| ${name} | ${Math.round(rate)} | ${(rate / loads.alone).toFixed(2)} |`);
  }
} finally {
  await broker.stop();
}
