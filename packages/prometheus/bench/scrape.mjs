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
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const run = promisify(execFile);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return Number(i >= 0 ? args[i + 1] : fallback);
};
const QUEUES = option('--queues', 10_000);
const SECONDS = option('--seconds', 10);
const REPEAT = option('--repeat', 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startBroker() {
  const dir = mkdtempSync(join(tmpdir(), 'warren-scrape-bench-'));
  const ports = [
    '--amqp-port',
    '0',
    '--stomp-port',
    '0',
    '--ws-port',
    '0',
    '--http-port',
    '0',
    '--prometheus-port',
    '0',
  ];
  const child = spawn(
    process.execPath,
    ['packages/server/bin/warren.js', 'start', ...ports, '--data-dir', dir, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const listening = {};
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`warren exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line);
      if (entry.msg === 'listening') listening[entry.protocol] = entry.port;
      if (entry.msg === 'warren started') resolve();
    });
  });
  return {
    amqp: listening.amqp,
    http: listening.http,
    prometheus: listening.prometheus,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function timed(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

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

async function perf(broker) {
  const { stdout } = await run(
    process.execPath,
    [
      'packages/perf/bin/warren-perf.js',
      '--port',
      String(broker.amqp),
      '-x',
      '1',
      '-y',
      '1',
      '-s',
      '1k',
      '-z',
      String(SECONDS),
      '--warmup',
      '2',
      '--json',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (!result.ok) throw new Error(result.error);
  return result.cons_rate;
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
    return await perf(broker);
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

const broker = await startBroker();
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
