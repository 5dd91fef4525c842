#!/usr/bin/env node
/**
 * Producers on one node, consumers on another: the shared harness cannot do it in one run (an amqp-load
 * with --producers 0 ends at once), so this pairs a producer-only amqp-load on --pub with a consumer of its
 * own on --sub (amqplib, manual ack, prefetch 100), on one durable queue. The consumer counts deliveries in
 * the producer's measured window and reads amqp-load's timestamp (CLOCK_MONOTONIC ns in the first 8 bytes,
 * the clock process.hrtime uses on Linux) for the end-to-end latency. Open loop: the producer is bounded by
 * its confirm window only, so a consumer slower than the publishes leaves a backlog (reported).
 *
 *   node packages/cluster/bench/cross-node.mjs --pub 127.0.0.1:5800 --sub 127.0.0.1:5810 [--runs 3]
 *       [--duration 8] [--bench ../shared/bench] [--pids PID,...]
 * Prints one JSON line per run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, URL } from 'node:url';

const require = createRequire(import.meta.url);
const amqp = require('amqplib');
const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const [pubHost, pubPort] = opt('--pub', '127.0.0.1:5800').split(':');
const [subHost, subPort] = opt('--sub', '127.0.0.1:5810').split(':');
const runs = Number(opt('--runs', '3'));
const duration = Number(opt('--duration', '8'));
const bench = opt('--bench', fileURLToPath(new URL('../../../../shared/bench', import.meta.url)));
const pids = opt('--pids', '').split(',').filter(Boolean);

const cpu = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
};
const pct = (v, p) => (v.length === 0 ? null : v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]);

for (let run = 1; run <= runs; run++) {
  const queue = `bench-cross-${process.pid}-${run}`;
  const conn = await amqp.connect(`amqp://${subHost}:${subPort}`);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true });
  await ch.prefetch(100);
  const lat = [];
  let consumed = 0;
  let windowStart = 0n;
  let windowEnd = 0n;
  let inWindow = 0;
  await ch.consume(queue, (m) => {
    if (m === null) return;
    const now = process.hrtime.bigint();
    consumed++;
    if (windowStart !== 0n && now >= windowStart && now < windowEnd) inWindow++;
    if (m.content.length >= 8) lat.push(Number(now - m.content.readBigUInt64LE(0)) / 1000);
    ch.ack(m);
  });
  const before = pids.map(cpu);
  const t0 = process.hrtime.bigint();
  // amqp-load starts its clock about 5 ms after it connects; 1 s warm-up as the harness's rows.
  windowStart = t0 + 1_000_000_000n;
  windowEnd = windowStart + BigInt(duration) * 1_000_000_000n;
  const producer = await new Promise((resolve) => {
    const c = spawn(
      `${bench}/bin/amqp-load`,
      [
        '--host',
        pubHost,
        '--port',
        pubPort,
        '--producers',
        '1',
        '--consumers',
        '0',
        '--size',
        '1k',
        '--persistent',
        '--confirm',
        '100',
        '--duration',
        String(duration),
        '--warmup',
        '1',
        '--queue',
        queue,
        '--keep',
        '--label',
        'cross-node-pub',
        ...(pids[0] ? ['--broker-pid', pids[0]] : []),
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let s = '';
    c.stdout.on('data', (d) => (s += d));
    c.on('exit', () => resolve(JSON.parse(s.trim().split('\n').pop() || '{}')));
  });
  // Drain what is left, at most 30 s.
  const drainStart = Date.now();
  while (consumed < producer.published && Date.now() - drainStart < 30_000)
    await new Promise((r) => setTimeout(r, 50));
  const drainS = (Date.now() - drainStart) / 1000;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = pids.map((p, i) => cpu(p) - before[i]);
  await ch.deleteQueue(queue);
  await conn.close();
  lat.sort((a, b) => a - b);
  const line = {
    run,
    pub: `${pubHost}:${pubPort}`,
    sub: `${subHost}:${subPort}`,
    published: producer.published,
    consumed,
    pub_rate: producer.pub_rate,
    cons_rate: inWindow / duration,
    drain_s: drainS,
    confirm_us_p50: producer.confirm_us_p50,
    confirm_us_p99: producer.confirm_us_p99,
    lat_us_p50: pct(lat, 50),
    lat_us_p99: pct(lat, 99),
    elapsed_s: elapsed,
    cpu: Object.fromEntries(pids.map((p, i) => [p, Number(used[i].toFixed(2))])),
    all_broker_us_per_msg: consumed > 0 ? (used.reduce((s, x) => s + x, 0) * 1e6) / consumed : null,
    producer_other_cores: producer.other_cores,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  await new Promise((r) => setTimeout(r, 1000));
}
