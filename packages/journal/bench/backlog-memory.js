'use strict';
/* global setInterval, clearInterval */
/**
 * What a durable backlog costs in memory per message: an in-process broker with a Journal in a temp dir,
 * N persistent 1 KiB messages published into one durable queue nobody consumes (the core API directly, no
 * sockets), then heap, array buffers (typed arrays and Buffers live outside the JS heap) and RSS after a
 * forced GC. Each N runs in its own child process, so one run's heap cannot colour the next one's RSS.
 *
 *   npm run build && node packages/journal/bench/backlog-memory.js [--counts 100000,1000000] [--restart]
 *       [--consume] [--store journal|null] [--heap-mb 8192] [--json]
 *
 * The split: after the totals, the journal's index is dropped (core = what is left of the growth), then the
 * queue's ready list; each drop is followed by a GC and the heap plus array buffers it gave back are that
 * part's share (the core's without the bodies still in memory: they are the budget, not index).
 * `--store null` runs the core over a store that writes nothing and pages (the core side alone, no disk).
 * `--consume` then reads the whole backlog back through one consumer (prefetch 1000, an ack every 100) and
 * reports its rate instead of the split. `--restart` closes the broker, opens the journal again and starts
 * a new broker on it: restart time, the heap after it and the highest heap and RSS (of the whole process)
 * seen while it ran (sampled every 20 ms). `--heap-mb` is the child's V8 old-space limit: a small one shows
 * that a backlog fits it.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const MiB = 1024 * 1024;

function parent() {
  const counts = flag('--counts', '100000,1000000').split(',').map(Number);
  const store = flag('--store', 'journal');
  const json = args.includes('--json');
  const rows = [];
  for (const n of counts) {
    const childArgs = [
      '--expose-gc',
      `--max-old-space-size=${flag('--heap-mb', '8192')}`,
      process.argv[1],
      '--child',
      String(n),
      store,
    ];
    if (args.includes('--restart')) childArgs.push('restart');
    if (args.includes('--consume')) childArgs.push('consume');
    const r = spawnSync(process.execPath, childArgs, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`run with N=${n} failed (${r.status ?? r.signal})`);
    const row = JSON.parse(r.stdout.trim().split('\n').pop());
    rows.push(row);
    if (json) console.log(JSON.stringify(row));
  }
  if (json) return;
  const fmt = (v) => (v === undefined ? '-' : String(v));
  const cols = [
    ['N', (r) => r.n],
    ['store', (r) => r.store],
    ['publish/s', (r) => r.publishRate],
    ['heap MB', (r) => (r.heapUsed / 1e6).toFixed(0)],
    ['rss MB', (r) => (r.rss / 1e6).toFixed(0)],
    ['heap B/msg', (r) => r.heapPerMsg],
    ['buffers B/msg', (r) => r.buffersPerMsg],
    ['rss B/msg', (r) => r.rssPerMsg],
    ['core B/msg', (r) => r.corePerMsg],
    ['journal B/msg', (r) => r.journalPerMsg],
    ['consume/s', (r) => r.consumeRate],
    ['restart s', (r) => r.restartSec],
    ['heap after restart B/msg', (r) => r.restartHeapPerMsg],
    [
      'peak heap in restart MB',
      (r) => (r.restartPeakHeap === undefined ? undefined : (r.restartPeakHeap / 1e6).toFixed(0)),
    ],
    [
      'peak rss in restart MB',
      (r) => (r.restartPeakRss === undefined ? undefined : (r.restartPeakRss / 1e6).toFixed(0)),
    ],
  ];
  const table = rows.map((r) => cols.map(([, f]) => fmt(f(r))));
  const widths = cols.map(([h], i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(cols.map(([h]) => h)));
  for (const t of table) console.log(line(t));
  console.log(`node ${process.version}, ${require('node:os').cpus().length} CPUs`);
}

/** Consumes `n` messages from the backlog queue, acking every 100th (multiple); returns msgs/s. */
async function consumeAll(broker, n) {
  const { CoreClient } = require('@warren/testkit');
  const client = new CoreClient(broker);
  client.channel.qos(1000, false);
  let got = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => {
    client.channel.consume(
      'backlog',
      {},
      {
        deliver: (d) => {
          if (++got % 100 === 0 || got === n) client.channel.ack(d.tag, true);
          if (got === n) resolve();
        },
        cancelledByBroker: () => {},
      },
    );
  });
  return Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}

function gc() {
  for (let i = 0; i < 4; i++) global.gc();
}

function memory() {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, buffers: m.arrayBuffers };
}

/** Writes nothing, reads nothing back, yet lets queues page: the core's own cost with no store behind it. */
class NullPagingStore {
  async recover() {
    return { topology: [], messages: new Map(), maxMessageId: 0 };
  }
  write(_ops, durable) {
    durable();
  }
  async read() {
    return new Map();
  }
  async close() {}
}

async function child() {
  const n = Number(args[1]);
  const storeKind = args[2];
  const restart = args.includes('restart');
  const consume = args.includes('consume');
  const { Broker, Message } = require('@warren/core');
  const { Journal } = require('../dist');
  const dir = mkdtempSync(join(tmpdir(), 'warren-backlog-'));
  try {
    const open = () => (storeKind === 'null' ? new NullPagingStore() : Journal.open({ dir, fsync: false }));
    const limits = { queueResidentBytes: 16 * MiB, memoryHighWatermark: 64 * 1024 * MiB };
    const base = memory();
    let store = await open();
    let broker = new Broker({ store, limits });
    await broker.start();
    const vhost = broker.getVhost('/');
    vhost.declareQueue(
      'backlog',
      { durable: true, exclusive: false, autoDelete: false, arguments: {} },
      undefined,
    );
    const result = { routed: 0, rejected: 0 };
    const props = { deliveryMode: 2 };
    const started = process.hrtime.bigint();
    const TURN = 5000;
    for (let i = 0; i < n; i += TURN) {
      const end = Math.min(n, i + TURN);
      for (let k = i; k < end; k++) {
        const body = Buffer.alloc(1024, k & 0xff);
        vhost.publish('', Message.fromProperties('', 'backlog', props, body), result);
      }
      // One group commit per turn, as under load; waiting for it keeps the write queue from holding bodies.
      await broker.persistence.flush();
    }
    const publishSec = Number(process.hrtime.bigint() - started) / 1e9;
    if (typeof store.idle === 'function') await store.idle();
    const queue = vhost.queues.get('backlog');
    if (queue.messageCount !== n) throw new Error(`expected ${n} messages, queue has ${queue.messageCount}`);
    const full = memory();
    const row = {
      n,
      store: storeKind,
      node: process.version,
      publishRate: Math.round(n / publishSec),
      paged: queue.ready.pagedCount,
      heapUsed: full.heap - base.heap,
      rss: full.rss - base.rss,
      heapPerMsg: Math.round((full.heap - base.heap) / n),
      buffersPerMsg: Math.round((full.buffers - base.buffers) / n),
      rssPerMsg: Math.round((full.rss - base.rss) / n),
    };

    if (restart && storeKind === 'journal') {
      await broker.close();
      broker = undefined;
      store = undefined;
      const before = memory();
      let peak = 0;
      let peakRss = 0;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        if (m.heapUsed > peak) peak = m.heapUsed;
        if (m.rss > peakRss) peakRss = m.rss;
      }, 20);
      const t0 = process.hrtime.bigint();
      store = await open();
      broker = new Broker({ store, limits });
      await broker.start();
      row.restartSec = Number((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2));
      clearInterval(sampler);
      const after = memory();
      const q = broker.getVhost('/').queues.get('backlog');
      if (q.messageCount !== n) throw new Error(`after restart ${q.messageCount} of ${n} messages`);
      row.restartHeapPerMsg = Math.round((after.heap - before.heap) / n);
      row.restartPeakHeap = Math.max(peak, after.heap) - before.heap;
      row.restartPeakRss = Math.max(peakRss, after.rss);
    }

    if (consume) {
      row.consumeRate = await consumeAll(broker, n);
      process.stdout.write(`${JSON.stringify(row)}\n`);
      await broker.close();
      return;
    }

    // The split, measured by letting go of each part and seeing what a GC gives back (after a restart, of
    // the restarted broker).
    const q = broker.getVhost('/').queues.get('backlog');
    const now = memory();
    let rest = now;
    if (storeKind === 'journal') {
      store.index = null;
      rest = memory();
      row.journalPerMsg = Math.round((now.heap + now.buffers - rest.heap - rest.buffers) / n);
    }
    const bodies = broker.memory.used;
    q.ready = null;
    const none = memory();
    row.corePerMsg = Math.round((rest.heap + rest.buffers - bodies - none.heap - none.buffers) / n);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    rmSync(dir, { recursive: true, force: true });
    // The broker is not closed: its parts were just taken away.
    process.exit(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--child')
  child().catch((err) => {
    console.error(err);
    process.exit(1);
  });
else parent();
