#!/usr/bin/env node
/**
 * The management API under an operator's load, against one fresh `warren start` child process:
 *
 *   list-queues   10,000 queues declared; `warren ctl list_queues name messages` (the whole list, through the
 *                 API), a full GET /api/queues and one page of 500, each timed (median of --repeat runs)
 *   scraped       warren-perf's data path (1 producer, 1 consumer, 1 KiB, --seconds each) alone and while a
 *                 scraper GETs /api/overview, /api/nodes and a page of /api/queues every second, alternated
 *                 --repeat times; medians of msgs/s
 *
 * Run from the repository root after `npm run build`:
 *
 *   node packages/management/bench/api-load.mjs [--queues 10000] [--seconds 10] [--repeat 3]
 */
import amqp from 'amqplib';
import { median, numericOption, perf, run, startBroker, timed } from '../../perf/bench/warren-child.mjs';

const QUEUES = numericOption('--queues', 10_000);
const SECONDS = numericOption('--seconds', 10);
const REPEAT = numericOption('--repeat', 3);

const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
const get = async (broker, path) => {
  const response = await fetch(`http://127.0.0.1:${broker.http}${path}`, { headers: auth });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
};

async function listQueues(broker) {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqp}`);
  const channel = await connection.createChannel();
  const declared = [];
  for (let i = 0; i < QUEUES; i++) declared.push(channel.assertQueue(`bench-q-${i}`, { durable: false }));
  await Promise.all(declared);
  await connection.close();

  const ctl = () =>
    run(
      process.execPath,
      [
        'packages/server/bin/warren.js',
        'ctl',
        '--url',
        `http://guest:guest@127.0.0.1:${broker.http}`,
        '-s',
        'list_queues',
        'name',
        'messages',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  const rows = {};
  const measure = async (name, work) => {
    const times = [];
    for (let i = 0; i < REPEAT; i++) times.push(await timed(work));
    rows[name] = median(times);
  };
  let lines = 0;
  await measure('warren ctl list_queues name messages (process start included)', async () => {
    lines = (await ctl()).stdout.split('\n').filter((l) => l !== '').length;
  });
  let items = 0;
  await measure('GET /api/queues (all)', async () => {
    items = (await get(broker, '/api/queues')).length;
  });
  await measure('GET /api/queues?page=1&page_size=500', () =>
    get(broker, '/api/queues?page=1&page_size=500'),
  );
  await measure('GET /api/overview', () => get(broker, '/api/overview'));
  if (lines !== QUEUES || items !== QUEUES) throw new Error(`listed ${lines} rows and ${items} items`);
  return rows;
}

async function scraped(broker) {
  const alone = [];
  const watched = [];
  let scrapes = 0;
  for (let i = 0; i < REPEAT; i++) {
    alone.push(await perf(broker, SECONDS));
    const timer = setInterval(() => {
      Promise.all([
        get(broker, '/api/overview'),
        get(broker, '/api/nodes'),
        get(broker, '/api/queues?page=1&page_size=100'),
      ]).then(
        () => scrapes++,
        (err) => console.error(`scrape failed: ${err.message}`),
      );
    }, 1000);
    try {
      watched.push(await perf(broker, SECONDS));
    } finally {
      clearInterval(timer);
    }
  }
  return { alone: median(alone), scraped: median(watched), scrapes };
}

const broker = await startBroker('warren-api-bench-');
try {
  const list = await listQueues(broker);
  console.log(`\n${QUEUES} queues, median of ${REPEAT}:\n`);
  console.log('| request | ms |\n| --- | ---: |');
  for (const [name, ms] of Object.entries(list)) console.log(`| ${name} | ${ms.toFixed(0)} |`);
  const { alone, scraped: under, scrapes } = await scraped(broker);
  console.log(
    `\nwarren-perf 1 producer, 1 consumer, 1 KiB, ${SECONDS} s, median of ${REPEAT} (${QUEUES} idle queues):\n`,
  );
  console.log('| data path | msgs/s |\n| --- | ---: |');
  console.log(`| alone | ${Math.round(alone)} |`);
  console.log(`| API scraped every second (${scrapes} scrapes) | ${Math.round(under)} |`);
  console.log(`| ratio | ${(under / alone).toFixed(2)} |`);
} finally {
  await broker.stop();
}
