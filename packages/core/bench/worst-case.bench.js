'use strict';
/**
 * Worst-case routing cost: inputs a client chooses to make one routing decision as expensive as it can.
 * Runs over the built core (`npm run build`, then `npm run bench:worst` from the repo root, which runs the
 * selector cases of packages/stomp/bench/selector.bench.js too).
 *
 * Topic: bindings crowded with '#' and '*' against keys of up to 128 words (255 bytes, the AMQP maximum),
 * matched on the trie directly, since a client varying its routing keys defeats the exchange's key cache.
 * Each family grows the key until one match takes longer than CUTOFF_MS; larger sizes are then left out
 * (the growth between sizes is polynomial of high degree for the old algorithm: the next size could take
 * hours). Headers: 100 bindings of 100 keys each against messages with 100 and 1,000 headers.
 *
 *   node packages/core/bench/worst-case.bench.js [--dist <core dist dir>] [--json]
 *
 * --dist measures another build of the core (e.g. one made from an older commit) with the same cases.
 */
const path = require('node:path');

const distArg = process.argv.indexOf('--dist');
const dist = distArg >= 0 ? path.resolve(process.argv[distArg + 1]) : path.join(__dirname, '../dist');
const { Broker, Message, TopicTrie } = require(dist);

const json = process.argv.includes('--json');
const durationMs = Number(process.env.BENCH_MS ?? 500);
const CUTOFF_MS = Number(process.env.BENCH_CUTOFF_MS ?? 200);

/** Mean ns per call of fn, over at least durationMs (and at least one call, however slow). */
function time(fn) {
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    // A call this slow needs no warm-up, and must not be repeated more than needed.
    if (Number(process.hrtime.bigint() - t0) / 1e6 > CUTOFF_MS) break;
  }
  let calls = 0;
  let batch = 1;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let now = start;
  do {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    now = process.hrtime.bigint();
    if (batch < 4096) batch *= 2;
  } while (now < deadline);
  return Number(now - start) / calls;
}

const results = [];
function record(family, size, nsPerOp, answer) {
  results.push({ family, size, nsPerOp: nsPerOp === undefined ? null : Math.round(nsPerOp), answer });
}

// --- topic ---------------------------------------------------------------------------------------------------

const words = (n, last = 'a') => Array.from({ length: n }, (_, i) => (i === n - 1 ? last : 'a')).join('.');

const topicFamilies = [
  {
    family: 'topic "#.a.#.a.#.a.#.a.#.b" vs a.a.….a (no match)',
    patterns: ['#.a.#.a.#.a.#.a.#.b'],
    key: (n) => words(n),
  },
  {
    family: 'topic "#.*.#.*.#.*.#.*.#.*.#.b" vs a.a.….a (no match)',
    patterns: ['#.*.#.*.#.*.#.*.#.*.#.b'],
    key: (n) => words(n),
  },
  {
    family: 'topic 40 x "#.a" then "#.b" vs a.a.….a (no match)',
    patterns: [`${'#.a.'.repeat(40)}#.b`],
    key: (n) => words(n),
  },
  {
    // Many bindings at once: every pattern of 8 words over {#, *, a}, 6,561 bindings sharing one trie.
    family: 'topic all 6,561 patterns of 8 words over {#,*,a} vs a.….a.b',
    patterns: (() => {
      let ps = [''];
      for (let i = 0; i < 8; i++)
        ps = ps.flatMap((p) => ['#', '*', 'a'].map((w) => (p === '' ? w : `${p}.${w}`)));
      return ps;
    })(),
    key: (n) => words(n, 'b'),
  },
];

for (const f of topicFamilies) {
  const trie = new TopicTrie();
  f.patterns.forEach((p, i) => trie.add(p, i));
  let stopped = false;
  for (const n of [8, 12, 16, 20, 24, 32, 64, 128]) {
    if (stopped) {
      record(f.family, n, undefined, 'not run');
      continue;
    }
    const key = f.key(n);
    const out = [];
    const ns = time(() => {
      out.length = 0;
      trie.match(key, out);
    });
    record(f.family, n, ns, `${new Set(out).size} bindings`);
    if (ns / 1e6 > CUTOFF_MS) stopped = true;
  }
}

// --- headers -------------------------------------------------------------------------------------------------

async function headers() {
  const broker = new Broker();
  await broker.start();
  const vhost = broker.getVhost('/');
  const flags = { durable: false, autoDelete: false, internal: false, arguments: {} };
  const qflags = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
  const exchange = vhost.declareExchange('bench.headers', 'headers', flags);
  // 100 bindings of 100 keys: k0..k99 = v0..v99, binding b differing from the message only in its last key,
  // so x-match=all reads all 100 pairs of every binding before failing (its worst case).
  for (let b = 0; b < 100; b++) {
    const args = { 'x-match': b % 2 === 0 ? 'all' : 'any' };
    for (let k = 0; k < 100; k++)
      args[`k${k}`] = b % 2 === 0 ? (k === 99 ? `other${b}` : `v${k}`) : `none${k}`;
    vhost.bind('bench.headers', vhost.declareQueue(`h${b}`, qflags, undefined), '', args);
  }
  for (const count of [100, 1000]) {
    const h = {};
    for (let k = 0; k < count; k++) h[`k${k}`] = `v${k}`;
    const msg = Message.fromProperties('bench.headers', '', { headers: h }, Buffer.alloc(0));
    const out = [];
    const ns = time(() => {
      out.length = 0;
      exchange.route(msg, out);
    });
    record(
      'headers, 100 bindings x 100 keys (all: 99 equal then 1 not; any: none equal)',
      count,
      ns,
      `${out.length} queues`,
    );
  }
  await broker.close();
}

headers()
  .then(() => {
    if (json) {
      for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    process.stdout.write(`core: ${dist}\n`);
    let family = '';
    for (const r of results) {
      if (r.family !== family) {
        family = r.family;
        process.stdout.write(`\n${family}\n  size        ns/op  answer\n`);
      }
      const ns = r.nsPerOp === null ? '-' : r.nsPerOp.toLocaleString('en');
      process.stdout.write(`  ${String(r.size).padStart(4)}  ${ns.padStart(15)}  ${r.answer}\n`);
    }
  })
  .catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
