'use strict';
/**
 * Worst-case selector cost: selectors a subscriber chooses, against header values a publisher chooses, to
 * make one evaluation (one message offered to one subscription) as expensive as they can. Runs over the
 * build (`npm run build`, then `npm run bench:worst` from the repo root, which runs the routing cases of
 * packages/core/bench/worst-case.bench.js too).
 *
 * Each family grows the header value until one evaluation takes longer than CUTOFF_MS; larger sizes are
 * then left out. The selector length limit is lifted (selectorMaxLength = Infinity): these cases measure
 * the evaluator, and a 1,000-entry IN list is longer than the default 4096 characters anyway.
 *
 *   node packages/stomp/bench/selector.bench.js [--dist <stomp dist dir>] [--json]
 *
 * --dist measures another build of the stomp package (e.g. one made from an older commit); only its
 * selector module is loaded, which needs nothing outside the directory.
 */
const path = require('node:path');

const distArg = process.argv.indexOf('--dist');
const dist = distArg >= 0 ? path.resolve(process.argv[distArg + 1]) : path.join(__dirname, '../dist');
const { Selector } = require(path.join(dist, 'selector/index.js'));

const json = process.argv.includes('--json');
const durationMs = Number(process.env.BENCH_MS ?? 500);
const CUTOFF_MS = Number(process.env.BENCH_CUTOFF_MS ?? 200);

/** Mean ns per call of fn, over at least durationMs (and at least one call, however slow). */
function time(fn) {
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    fn();
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

/** Runs `text` against values of each size; stops growing once one evaluation passes CUTOFF_MS. */
function family(name, text, sizes, value) {
  let selector;
  try {
    selector = new Selector(text, Infinity);
  } catch (e) {
    record(name, '-', undefined, `refused: ${e.message.slice(0, 60)}`);
    return;
  }
  let stopped = false;
  for (const n of sizes) {
    if (stopped) {
      record(name, n, undefined, 'not run');
      continue;
    }
    const v = value(n);
    const lookup = () => v;
    let answer;
    let ns;
    try {
      ns = time(() => {
        answer = selector.matches(lookup);
      });
    } catch (e) {
      record(name, n, undefined, `${e.name}: ${e.message.slice(0, 50)}`);
      stopped = true;
      continue;
    }
    record(name, n, ns, String(answer));
    if (ns / 1e6 > CUTOFF_MS) stopped = true;
  }
}

const VALUE_SIZES = [16, 32, 64, 128, 256, 1024, 4096, 65536];

// Backtracking bait: '%a' six times, then '%b', against a value of a's (never matches); then the same
// without the anchored end (which the matcher checks first), so that the 'b' has to be searched for.
const as = (n) => 'a'.repeat(n);
family(`LIKE '${'%a'.repeat(6)}%b' vs 'aaa…'`, `v LIKE '${'%a'.repeat(6)}%b'`, VALUE_SIZES, as);
family(`LIKE '${'%a'.repeat(6)}%b%' vs 'aaa…'`, `v LIKE '${'%a'.repeat(6)}%b%'`, VALUE_SIZES, as);
family(`LIKE '${'%_'.repeat(6)}%b%' vs 'aaa…'`, `v LIKE '${'%_'.repeat(6)}%b%'`, VALUE_SIZES, as);
// A long literal between '%'s that fails at its last character: found (or not) by indexOf.
family(`LIKE '%' + 100 a's + 'b%' vs 'aaa…'`, `v LIKE '%${'a'.repeat(100)}b%'`, VALUE_SIZES, as);
// The matcher's own worst case: '_' and literals mixed in one segment, tried at every start.
family(`LIKE '%' + 50 x '_a' + 'b%' vs 'aaa…'`, `v LIKE '%${'_a'.repeat(50)}b%'`, VALUE_SIZES, as);
family(
  `LIKE '%' + 2,040 x '_a' + 'b%' (4,085 chars) vs 'aaa…'`,
  `v LIKE '%${'_a'.repeat(2040)}b%'`,
  VALUE_SIZES,
  as,
);
// What selectors usually look like.
family(
  `LIKE 'order-%' vs 'order-…' (typical)`,
  `v LIKE 'order-%'`,
  [16, 256],
  (n) => `order-${'1'.repeat(n - 6)}`,
);
family(
  `LIKE '%error%' vs a log line (typical)`,
  `v LIKE '%error%'`,
  [64, 256],
  (n) => `${'x'.repeat(n - 10)} error: 1`,
);

// IN lists of 1,000 entries, against a value not in them (the full scan for a linear search).
const strings = Array.from({ length: 1000 }, (_, i) => `'customer-${i}'`).join(', ');
family(
  `x IN (1,000 strings), a miss`,
  `x IN (${strings})`,
  [16, 1024],
  (n) => `customer-${'9'.repeat(n - 9)}`,
);
const numbers = Array.from({ length: 1000 }, (_, i) => i * 2).join(', ');
// A numeric header sent as STOMP text: each item compared the old way ran the numeric RegExp over it.
family(
  `x IN (1,000 numbers), a miss, value as text`,
  `x IN (${numbers})`,
  [16, 1024],
  (n) => `1${'0'.repeat(n - 3)}.5`,
);

// A chain of 5,000 '+': one node now; a 5,000-deep tree before.
family(`x + x + … (5,000 terms) = 1`, `x${' + x'.repeat(4999)} = 1`, [1], () => 1);

if (json) {
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  process.stdout.write(`stomp: ${dist}\n`);
  let current = '';
  for (const r of results) {
    if (r.family !== current) {
      current = r.family;
      process.stdout.write(`\n${current}\n  value length        ns/op  answer\n`);
    }
    const ns = r.nsPerOp === null ? '-' : r.nsPerOp.toLocaleString('en');
    process.stdout.write(`  ${String(r.size).padStart(12)}  ${ns.padStart(15)}  ${r.answer}\n`);
  }
}
