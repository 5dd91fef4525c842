#!/usr/bin/env node
/**
 * How Warren's cost grows as the work grows: one dimension swept at a time, everything else held at the base
 * scenario (1 producer, 1 consumer, 1 KiB transient bodies, manual acks, prefetch 100, closed loop with at most
 * 10,000 messages in flight: warren-perf `-s 1k --ack manual -q 100 --max-backlog 10000`).
 *
 *   queues        idle durable queues declared beside the one busy queue (1 -> 100,000)
 *   busy-queues   queues each with its own producer and consumer (1 -> 1,000)
 *   consumers     consumers on the one queue (1 -> 1,000)
 *   connections   connections under load, half producers and half consumers, a queue per pair (10 -> 10,000)
 *   size          body size (16 B -> 4 MiB; the in-flight bound shrinks to 64 MiB of bodies)
 *   backlog       persistent 1 KiB messages published with confirms into a durable queue nobody reads, then
 *                 drained by one consumer (10,000 -> 10,000,000)
 *   topic         bindings on one topic exchange, each message matching one of them (10 -> 1,000,000)
 *   fanout        queues bound to one fanout exchange, a consumer each (1 -> 1,000)
 *
 * Every point gets a fresh `warren start` child (warren-child.mjs) and one warren-perf run with --broker-pid,
 * so msgs/s, p99, the broker's RSS and its CPU per message come from the same window. Results (aggregates per
 * point, the exact warren-perf flags, the machine) go to docs/growth.json; plot-growth.mjs draws them. Run from
 * the repository root after `npm run build`:
 *
 *   node packages/perf/bench/growth.mjs [sweep ...] [--quick] [--seconds 5] [--warmup 1] [--at X]
 *        [--out docs/growth.json] [--profile DIR]
 *
 * --quick runs tiny sizes of every sweep (a smoke run, written to --out all the same: point it elsewhere);
 * --at X runs only the points whose x is X; --profile DIR starts each broker with `--cpu-prof` into
 * DIR/<sweep>-<x>/. The connections sweep needs about 10,000 file descriptors on each side (`ulimit -n`).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { clearTimeout } from 'node:timers';
import amqp from '@warren/amqp';
import perfClient from '@warren/perf';
import { startBroker } from './warren-child.mjs';

const { AmqpClient } = perfClient;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const QUICK = args.includes('--quick');
const SECONDS = Number(option('--seconds', QUICK ? '1' : '5'));
const WARMUP = Number(option('--warmup', '1'));
const OUT = option('--out', 'docs/growth.json');
const PROFILE = option('--profile', undefined);
const AT = option('--at', undefined);
const chosen = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const BASE = ['-s', '1k', '--ack', 'manual', '-q', '100', '--max-backlog', '10000'];
/** In-flight bound for the size sweep: 10,000 messages, or 64 MiB of bodies when that is fewer (at least 16). */
const backlogFor = (size) => Math.max(16, Math.min(10_000, Math.floor((64 * 1048576) / size)));

// ---- /proc ----------------------------------------------------------------------------------------------------

function brokerCpuS(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
}

function openFilesLimit() {
  const line = readFileSync('/proc/self/limits', 'latin1')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return line ? Number(line.split(/\s+/)[3]) : null;
}

function duKb(dir) {
  try {
    return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return null;
  }
}

// ---- clients for setup and drain (warren-perf's own, on Warren's codec) ------------------------------------

const connect = (broker, name) =>
  AmqpClient.connect({
    host: '127.0.0.1',
    port: broker.amqp,
    user: 'guest',
    pass: 'guest',
    vhost: '/',
    frameMax: 131072,
    name: `growth ${name}`,
  });

/** Declares `n` durable queues `idle-<i>`: all but the last with no-wait, ~1,000 per socket write. */
async function declareIdleQueues(broker, n) {
  const c = await connect(broker, 'setup');
  const declare = (i, noWait) => ({
    id: amqp.QUEUE_DECLARE,
    ticket: 0,
    queue: `idle-${i}`,
    passive: false,
    durable: true,
    exclusive: false,
    autoDelete: false,
    noWait,
    arguments: {},
  });
  let frames = [];
  for (let i = 0; i < n - 1; i++) {
    frames.push(c.writer.method(1, declare(i, true)));
    if (frames.length === 1024) {
      if (!c.write(Buffer.concat(frames))) await new Promise((r) => c.socket.once('drain', r));
      frames = [];
    }
  }
  if (frames.length > 0) c.write(Buffer.concat(frames));
  await c.rpc(declare(n - 1, false));
  await c.close();
}

/**
 * One consumer reads `expected` messages from `queue` (prefetch 1,000, a multiple ack every 100) while the
 * broker's RSS is sampled; resolves with msgs/s, the broker's CPU per message and the peak RSS.
 */
async function drainQueue(broker, queue, expected) {
  const c = await connect(broker, 'drain');
  await c.rpc({ id: amqp.BASIC_QOS, prefetchSize: 0, prefetchCount: 1000, global: false });
  let got = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  c.onDelivery = (tag) => {
    got++;
    if (got % 100 === 0 || got === expected) c.send({ id: amqp.BASIC_ACK, deliveryTag: tag, multiple: true });
    if (got === expected) finished();
  };
  let peakKb = rssKb(broker.pid);
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(broker.pid))), 250);
  const cpu0 = brokerCpuS(broker.pid);
  const t0 = process.hrtime.bigint();
  await c.rpc({
    id: amqp.BASIC_CONSUME,
    ticket: 0,
    queue,
    consumerTag: 'drain',
    noLocal: false,
    noAck: false,
    exclusive: false,
    noWait: false,
    arguments: {},
  });
  const stalled = new Promise((resolve) => {
    let last = -1;
    const check = setInterval(() => {
      if (got === last) resolve(clearInterval(check));
      last = got;
    }, 10_000);
    done.then(() => clearInterval(check));
  });
  await Promise.race([done, stalled]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = brokerCpuS(broker.pid) - cpu0;
  const gc = gcIn(broker, performance.now() - seconds * 1000, performance.now());
  clearInterval(sampler);
  await c.close();
  return {
    drained: got,
    drain_s: r3(seconds),
    drain_rate: r3(got / seconds),
    drain_cpu_us_per_msg: r3((cpu * 1e6) / got),
    drain_rss_peak_kb: peakKb,
    drain_gc_share: gc.gc_share,
    drain_gc_major: gc.gc_major,
  };
}

// ---- one warren-perf run --------------------------------------------------------------------------------------

const r3 = (v) => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

/** What a point keeps of warren-perf's JSON line (the whole line is ~60 fields; these are the ones read). */
const KEEP = [
  'ok',
  'error',
  'drained',
  'missing',
  'published',
  'consumed',
  'pub_rate',
  'cons_rate',
  'lat_us_p50',
  'lat_us_p99',
  'lat_us_max',
  'confirm_us_p50',
  'confirm_us_p99',
  'wall_s',
  'client_cores',
  'broker_cpu_s',
  'broker_cores',
  'broker_cpu_us_per_msg',
  'broker_rss_kb_before',
  'broker_rss_kb_after',
  'other_cores',
  'machine_cores_busy',
];

/**
 * warren-perf against `broker`; a timed run (-z, --warmup) unless `flags` has --count. Its --progress lines
 * (t=<seconds since t0>) place its measurement window on this process's clock, for the broker's GC trace.
 */
async function warrenPerf(broker, flags) {
  const counted = flags.includes('-C');
  const timing = counted ? ['--warmup', '0'] : ['-z', String(SECONDS), '--warmup', String(WARMUP)];
  const all = [...timing, ...flags, '--progress'];
  const argv = ['packages/perf/bin/warren-perf.js', '--port', String(broker.amqp), '--broker-pid'];
  const child = spawn(process.execPath, [...argv, String(broker.pid), ...all, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let t0;
  child.stdout.on('data', (d) => (stdout += d));
  createInterface({ input: child.stderr }).on('line', (line) => {
    const m = /^t=([\d.]+)s /.exec(line);
    if (m) t0 ??= performance.now() - Number(m[1]) * 1000;
    else stderr += `${line}\n`;
  });
  // A run that cannot finish (publishers blocked for good, a broker that stopped answering) is cut, not waited on.
  const limitMs = (counted ? 600 : SECONDS + WARMUP + 120) * 1000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  let result;
  try {
    result = JSON.parse(stdout.trim().split('\n').pop());
  } catch {
    result = {
      ok: false,
      error: child.signalCode ? `killed after ${limitMs / 1000} s` : stderr.slice(0, 300),
    };
  }
  const point = { flags: all.join(' ') };
  for (const k of KEEP) if (k in result) point[k] = result[k];
  if (t0 !== undefined) {
    const from = counted ? t0 : t0 + WARMUP * 1000;
    const to = counted ? from + (result.wall_s ?? 0) * 1000 : from + SECONDS * 1000;
    Object.assign(point, gcIn(broker, from, to));
  }
  return point;
}

// ---- the broker's garbage collector (--trace-gc) ---------------------------------------------------------------

/**
 * One line of V8's --trace-gc: `... 12392 ms: Mark-Compact 1165.1 (1208.8) -> 1107.4 (1175.0) MB, 30.93 / 0.04
 * ms (+ 552.9 ms in 1035 steps since start of marking, ...`: the pause, and for a mark-compact the incremental
 * marking steps before it, which ran on the main thread too (inside whatever allocated at the time).
 */
const GC_LINE =
  /ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Sweep)\b.*?MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in)?/;

function traceGc(line, into) {
  const m = GC_LINE.exec(line);
  if (m === null) return;
  into.push({
    at: performance.now(),
    major: m[1] !== 'Scavenge',
    pauseMs: Number(m[2]),
    stepsMs: Number(m[3] ?? 0),
  });
}

/** The broker's GC work between two instants of performance.now(): counts, pause and marking time, share. */
function gcIn(broker, from, to) {
  const events = broker.gc.filter((g) => g.at >= from && g.at <= to);
  const majors = events.filter((g) => g.major);
  const ms = events.reduce((a, g) => a + g.pauseMs + g.stepsMs, 0);
  return {
    gc_scavenges: events.length - majors.length,
    gc_major: majors.length,
    gc_major_ms: r3(majors.reduce((a, g) => a + g.pauseMs + g.stepsMs, 0)),
    gc_ms: r3(ms),
    gc_max_pause_ms: r3(events.reduce((a, g) => Math.max(a, g.pauseMs), 0)),
    gc_share: to > from ? r3(ms / (to - from)) : null,
  };
}

// ---- the sweeps -------------------------------------------------------------------------------------------------

/** A sweep of warren-perf runs: `flags(x)` per point, `before(broker, x)` for setup warren-perf does not do. */
const perfSweep = (spec) => ({ ...spec, kind: 'perf' });

const SWEEPS = {
  queues: perfSweep({
    title: 'Idle queues beside one busy queue',
    xTitle: 'idle durable queues',
    xs: [1, 10, 100, 1000, 10_000, 100_000],
    quick: [1, 1000],
    flags: () => BASE,
    async before(broker, n) {
      const rss0 = rssKb(broker.pid);
      const t0 = process.hrtime.bigint();
      await declareIdleQueues(broker, n);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await sleep(500);
      const cpu0 = brokerCpuS(broker.pid);
      await sleep(2000);
      return {
        declare_per_s: r3(n / seconds),
        idle_rss_kb_per_queue: r3((rssKb(broker.pid) - rss0) / n),
        idle_broker_cores: r3((brokerCpuS(broker.pid) - cpu0) / 2),
      };
    },
  }),
  'busy-queues': perfSweep({
    title: 'Busy queues (a producer and a consumer each)',
    xTitle: 'busy queues',
    xs: [1, 10, 100, 300, 1000],
    quick: [1, 10],
    flags: (n) => ['-x', String(n), '-y', String(n), '--queues', String(n), ...BASE],
  }),
  consumers: perfSweep({
    title: 'Consumers on one queue',
    xTitle: 'consumers (one connection each)',
    xs: [1, 10, 100, 300, 1000],
    quick: [1, 10],
    flags: (n) => ['-y', String(n), ...BASE],
  }),
  connections: perfSweep({
    title: 'Connections under load (half producers, half consumers)',
    xTitle: 'connections',
    xs: [10, 100, 1000, 3000, 10_000],
    quick: [10, 100],
    flags: (n) => ['-x', String(n / 2), '-y', String(n / 2), '--queues', String(n / 2), ...BASE],
  }),
  size: perfSweep({
    title: 'Message size',
    xTitle: 'body size (bytes)',
    xs: [16, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304],
    quick: [16, 65_536],
    flags: (s) => ['-s', String(s), '--ack', 'manual', '-q', '100', '--max-backlog', String(backlogFor(s))],
  }),
  topic: perfSweep({
    title: 'Bindings on one topic exchange (one matches each message)',
    xTitle: 'topic bindings (= distinct routing keys)',
    xs: [10, 100, 1000, 10_000, 100_000, 1_000_000],
    quick: [10, 10_000],
    flags: (b) => ['--topic', String(b), ...BASE],
  }),
  fanout: perfSweep({
    title: 'Fanout width',
    xTitle: 'queues bound to the fanout (a consumer each)',
    xs: [1, 10, 100, 300, 1000],
    quick: [1, 10],
    flags: (q) => ['-y', String(q), '--fanout', String(q), ...BASE],
  }),
  backlog: {
    kind: 'backlog',
    title: 'Persistent backlog: fill with confirms, nobody reading, then drain',
    xTitle: 'persistent 1 KiB messages queued',
    xs: [10_000, 100_000, 1_000_000, 10_000_000],
    quick: [10_000, 100_000],
  },
};

async function perfPoint(sweep, broker, x) {
  const extra = sweep.before ? await sweep.before(broker, x) : {};
  const point = await warrenPerf(broker, sweep.flags(x));
  return { x, ...point, ...extra };
}

async function backlogPoint(broker, n) {
  const queue = 'growth-backlog';
  const flags = ['-x', '1', '-y', '0', '-s', '1k', '--persistent', '-c', '1000', '-C', String(n)];
  // A --count run has no warm-up (warrenPerf): every message counts, from the first publish to the last.
  const fill = await warrenPerf(broker, [...flags, '--queue', queue, '--keep', '--drain-timeout', '30']);
  const point = {
    x: n,
    ...fill,
    fill_rate: fill.pub_rate,
    fill_cpu_us_per_msg: fill.published > 0 ? r3((fill.broker_cpu_s * 1e6) / fill.published) : null,
    full_rss_kb: fill.broker_rss_kb_after,
    data_dir_kb: duKb(broker.dir),
  };
  if (fill.ok) Object.assign(point, await drainQueue(broker, queue, fill.published));
  return point;
}

// ---- main -------------------------------------------------------------------------------------------------------

function machine() {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })();
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    openFiles: openFilesLimit(),
    commit,
  };
}

let results = { sweeps: {} };
try {
  results = JSON.parse(readFileSync(OUT, 'utf8'));
} catch {
  // a first run
}
results.machine = machine();
results.settings = { seconds: SECONDS, warmup: WARMUP, base: `warren-perf ${BASE.join(' ')}`, quick: QUICK };
results.started = new Date().toISOString();

const names = chosen.length > 0 ? chosen : Object.keys(SWEEPS);
for (const name of names) {
  const sweep = SWEEPS[name];
  if (sweep === undefined) throw new Error(`no sweep ${name}; one of ${Object.keys(SWEEPS).join(', ')}`);
  const xs = (QUICK ? sweep.quick : sweep.xs).filter((x) => AT === undefined || String(x) === AT);
  const points = [];
  for (const x of xs) {
    const nodeArgs = ['--trace-gc'];
    if (PROFILE) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(PROFILE, `${name}-${x}`));
    const gc = [];
    const broker = await startBroker('warren-growth-', { nodeArgs, onOutput: (line) => traceGc(line, gc) });
    broker.gc = gc;
    const started = Date.now();
    let point;
    try {
      point = sweep.kind === 'backlog' ? await backlogPoint(broker, x) : await perfPoint(sweep, broker, x);
    } catch (err) {
      point = { x, ok: false, error: String(err?.message ?? err) };
    } finally {
      await broker.stop();
    }
    point.point_s = r3((Date.now() - started) / 1000);
    points.push(point);
    const show = ['cons_rate', 'lat_us_p99', 'broker_rss_kb_after', 'broker_cpu_us_per_msg', 'fill_rate'];
    const shown = show.filter((k) => point[k] != null).map((k) => `${k} ${point[k]}`);
    process.stderr.write(`${name} ${x}: ${point.ok ? shown.join(', ') : `FAILED ${point.error}`}\n`);
  }
  const kept = AT === undefined ? points : mergePoints(results.sweeps[name]?.points ?? [], points);
  results.sweeps[name] = { title: sweep.title, xTitle: sweep.xTitle, kind: sweep.kind, points: kept };
  results.finished = new Date().toISOString();
  writeFileSync(OUT, `${JSON.stringify(results, null, 1)}\n`);
}

/** --at X replaces point X of an earlier run and keeps the others. */
function mergePoints(old, fresh) {
  const byX = new Map(old.map((p) => [p.x, p]));
  for (const p of fresh) byX.set(p.x, p);
  return [...byX.values()].sort((a, b) => a.x - b.x);
}
