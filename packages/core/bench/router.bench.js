'use strict';
/**
 * Router micro-benchmark: routing decisions per second for each exchange type, over the built core
 * (run `npm run build` first; `npm run bench:router` from the repo root). A routing decision is one
 * `exchange.route(message)` producing the full destination list; no enqueue, no I/O.
 *
 * Scenarios: direct with 1,000 bindings; topic with 1,000 and 100,000 bindings, both with a hot key set
 * (served from the exchange's routing-key cache) and with every key distinct (the trie walk each time);
 * fanout to 10 queues. Results go to stdout as a table and, with --json, as JSON lines.
 */
const { Broker, Message } = require('../dist');

const durationMs = Number(process.env.BENCH_MS ?? 1500);
const json = process.argv.includes('--json');

function measure(name, exchange, messages, expectEach) {
  const out = [];
  // Warm-up: let the JIT settle and the cache fill before timing.
  for (let i = 0; i < 50_000; i++) {
    out.length = 0;
    exchange.route(messages[i % messages.length], out);
  }
  let ops = 0;
  let routed = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10_000; i++) {
      out.length = 0;
      exchange.route(messages[(ops + i) % messages.length], out);
      routed += out.length;
    }
    ops += 10_000;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  const perSec = ops / seconds;
  const avgDest = routed / ops;
  if (expectEach !== undefined && Math.abs(avgDest - expectEach) > 1e-9) {
    throw new Error(`${name}: expected ${expectEach} destinations per message, got ${avgDest}`);
  }
  return {
    scenario: name,
    decisionsPerSec: Math.round(perSec),
    nsPerDecision: Math.round(1e9 / perSec),
    avgDestinations: Number(avgDest.toFixed(2)),
  };
}

async function main() {
  const broker = new Broker();
  await broker.start();
  const vhost = broker.getVhost('/');
  const flags = { durable: false, autoDelete: false, internal: false, arguments: {} };
  const qflags = { durable: false, exclusive: false, autoDelete: false, arguments: {} };
  const queue = (name) => vhost.declareQueue(name, qflags, undefined);
  const msg = (key) => Message.fromProperties('x', key, {}, Buffer.alloc(0));
  const results = [];

  // direct: 1,000 queues, one key each; messages cycle through every key.
  const direct = vhost.declareExchange('bench.direct', 'direct', flags);
  for (let i = 0; i < 1000; i++) vhost.bind('bench.direct', queue(`d${i}`), `key.${i}`, {});
  results.push(
    measure(
      'direct, 1,000 bindings',
      direct,
      Array.from({ length: 1000 }, (_, i) => msg(`key.${i}`)),
      1,
    ),
  );

  // topic: N bindings shaped like real subscriptions: "region.service.*" and "region.#".
  for (const n of [1000, 100_000]) {
    const name = `bench.topic.${n}`;
    const topic = vhost.declareExchange(name, 'topic', flags);
    const regions = Math.max(10, Math.round(Math.sqrt(n / 2)));
    let bound = 0;
    for (let r = 0; bound < n; r++) {
      const region = `r${r % regions}`;
      const q = queue(`${name}.q${bound}`);
      if (bound % 10 === 0) vhost.bind(name, q, `${region}.#`, {});
      else vhost.bind(name, q, `${region}.s${Math.floor(r / regions)}.*`, {});
      bound++;
    }
    const hot = Array.from({ length: 100 }, (_, i) => msg(`r${i % regions}.s${i % 50}.created`));
    const cold = Array.from({ length: 200_000 }, (_, i) => msg(`r${i % regions}.s${(i * 7) % 97}.e${i}`));
    results.push(measure(`topic, ${n.toLocaleString('en')} bindings, 100 hot keys (cached)`, topic, hot));
    results.push(
      measure(`topic, ${n.toLocaleString('en')} bindings, distinct keys (trie walk)`, topic, cold),
    );
  }

  // fanout to 10 queues.
  const fanout = vhost.declareExchange('bench.fanout', 'fanout', flags);
  for (let i = 0; i < 10; i++) vhost.bind('bench.fanout', queue(`f${i}`), '', {});
  results.push(measure('fanout, 10 queues', fanout, [msg('')], 10));

  await broker.close();

  if (json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const w = Math.max(...results.map((r) => r.scenario.length));
    process.stdout.write(`${'scenario'.padEnd(w)}  decisions/s   ns/decision  avg dests\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.scenario.padEnd(w)}  ${String(r.decisionsPerSec.toLocaleString('en')).padStart(11)}  ${String(r.nsPerDecision).padStart(12)}  ${String(r.avgDestinations).padStart(9)}\n`,
      );
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
