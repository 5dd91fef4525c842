#!/usr/bin/env node
/**
 * Broker memory (RSS) under overload, one scenario per fresh `warren start` child process:
 *
 *   idle-connections   9,500 AMQP + 9,500 STOMP connections opened in steps and left idle (both ends must
 *                      stay under this machine's hard limit of 20,000 file descriptors per process)
 *   half-open          10,000 sockets that start a handshake and never finish it (cut by handshakeTimeoutMs)
 *   heartbeat-storm    2,000 STOMP sessions asking for 1 ms heart-beats and sending an EOL every 10 ms
 *   channels           one AMQP connection with 2,000 channels, each consuming its own queue
 *   slow-consumer      2 producers of 1 KiB persistent messages into a durable queue whose one consumer has
 *                      stopped reading, for `--seconds` (30); the broker runs with --max-old-space-size=400
 *   backlog            the same with no consumer at all until `--messages` (10,000,000) are queued or publishers
 *                      stay blocked; the queue depth is read from a connection that never published
 *
 * The broker's RSS is read from /proc/<pid>/status every 200 ms. Results go to a JSON file (--out, default
 * docs/overload-rss.json) that plot-overload.mjs turns into the SVGs in docs/. Run from the repository root after
 * `npm run build`, with enough file descriptors for both ends (`ulimit -n 65536`):
 *
 *   node packages/perf/bench/overload-rss.mjs [scenario ...] [--seconds 30] [--out file]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import amqpCodec from '@warren/amqp';

const { FrameWriter, FrameReader, PROTOCOL_HEADER, decodeMethodFrame } = amqpCodec;
const M = amqpCodec;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const SECONDS = Number(option('--seconds', '30'));
const OUT = option('--out', 'docs/overload-rss.json');
const MESSAGES = Number(option('--messages', '10000000'));
const ALL = ['idle-connections', 'half-open', 'heartbeat-storm', 'channels', 'slow-consumer', 'backlog'];
const chosen = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const scenarios = chosen.length > 0 ? chosen : ALL;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const writer = new FrameWriter(131072);

// ---- the broker under test ---------------------------------------------------------------------------------

async function startBroker(nodeOptions = '') {
  const dir = mkdtempSync(join(tmpdir(), 'warren-overload-'));
  const child = spawn(
    process.execPath,
    [
      'packages/server/bin/warren.js',
      'start',
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
      '--data-dir',
      dir,
    ],
    { env: { ...process.env, NODE_OPTIONS: nodeOptions }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ports = {};
  const log = [];
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      const line = JSON.parse(text);
      log.push(line);
      if (line.msg === 'listening') ports[line.protocol] = line.port;
      if (line.msg === 'warren started') resolve();
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  const samples = [];
  const t0 = Date.now();
  let label = '';
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      samples.push({ t: (Date.now() - t0) / 1000, rssMiB: kb / 1024, label });
    } catch {
      // the process is gone
    }
  };
  const timer = setInterval(sample, 200);
  sample();
  return {
    ports,
    log,
    samples,
    child,
    rss: () => {
      sample();
      return samples[samples.length - 1].rssMiB;
    },
    mark: (l) => (label = l),
    async stop() {
      clearInterval(timer);
      const exited = new Promise((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const status = await exited;
      rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}

/** queue.declare on `channel`: durable unless told otherwise, as the scenarios' queues are. */
function declareFrame(channel, queue, { passive = false, durable = true, exclusive = false } = {}) {
  return writer.method(channel, {
    id: M.QUEUE_DECLARE,
    ticket: 0,
    queue,
    passive,
    durable,
    exclusive,
    autoDelete: false,
    noWait: false,
    arguments: {},
  });
}

// ---- minimal clients on raw sockets (thousands of them must be cheap on this side too) ---------------------

function socketTo(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** An AMQP client that runs the handshake and then whatever `script` sends; frames in are handed to `onFrame`. */
async function amqpClient(port, { onMethod = () => {}, heartbeat = 0 } = {}) {
  const s = await socketTo(port);
  s.on('error', () => {});
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  const reader = new FrameReader(
    {
      onProtocolHeader: () => {},
      onMethod: (channel, payload) => {
        const m = decodeMethodFrame(payload);
        if (m.id === M.CONNECTION_OPEN_OK) opened();
        onMethod(channel, m);
      },
      onContentHeader: () => {},
      onBody: () => {},
      onHeartbeat: () => {},
    },
    { expectProtocolHeader: false, frameMax: 131072 },
  );
  s.on('data', (chunk) => reader.push(chunk));
  s.write(
    Buffer.concat([
      PROTOCOL_HEADER,
      writer.method(0, {
        id: M.CONNECTION_START_OK,
        clientProperties: { capabilities: { 'connection.blocked': true } },
        mechanism: 'PLAIN',
        response: Buffer.from('\0guest\0guest'),
        locale: 'en_US',
      }),
      writer.method(0, { id: M.CONNECTION_TUNE_OK, channelMax: 2047, frameMax: 131072, heartbeat }),
      writer.method(0, { id: M.CONNECTION_OPEN, virtualHost: '/', capabilities: '', insist: false }),
    ]),
  );
  await open;
  return s;
}

async function stompClient(port, heartBeat = '0,0') {
  const s = await socketTo(port);
  s.on('error', () => {});
  let buffered = '';
  await new Promise((resolve, reject) => {
    s.on('data', function first(chunk) {
      buffered += chunk.toString('latin1');
      if (buffered.includes('\0')) {
        s.off('data', first);
        s.resume();
        if (buffered.startsWith('CONNECTED')) resolve();
        else reject(new Error(buffered.slice(0, 200)));
      }
    });
    s.write(
      `CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:${heartBeat}\n\n\0`,
    );
  });
  return s;
}

/** Opens `n` connections with `open`, `parallel` at a time. */
async function openMany(n, parallel, open) {
  const out = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => open()));
    out.push(...batch);
  }
  return out;
}

// ---- scenarios ----------------------------------------------------------------------------------------------

async function idleConnections() {
  const b = await startBroker();
  const base = b.rss();
  const points = [{ protocol: 'amqp', connections: 0, rssMiB: base }];
  const sockets = [];
  const PER = 9500;
  for (const protocol of ['amqp', 'stomp']) {
    b.mark(`idle ${protocol}`);
    const start = protocol === 'amqp' ? 0 : PER;
    for (let n = 500; n <= PER; n += 500) {
      const more = await openMany(500, 100, () =>
        protocol === 'amqp' ? amqpClient(b.ports.amqp) : stompClient(b.ports.stomp),
      );
      sockets.push(...more);
      await sleep(500);
      points.push({ protocol, connections: start + n, rssMiB: b.rss() });
    }
  }
  const total = b.rss();
  for (const s of sockets) s.destroy();
  await sleep(2000);
  const after = b.rss();
  await b.stop();
  const half = points.length >> 1;
  const perAmqp = ((points[half].rssMiB - base) * 1024) / PER;
  const perStomp = ((points[points.length - 1].rssMiB - points[half].rssMiB) * 1024) / PER;
  return {
    scenario: 'idle-connections',
    summary: {
      baseMiB: base,
      peakMiB: total,
      afterCloseMiB: after,
      kibPerAmqp: perAmqp,
      kibPerStomp: perStomp,
    },
    points,
    samples: b.samples,
  };
}

async function halfOpen() {
  const b = await startBroker();
  const base = b.rss();
  b.mark('flood');
  let closedByBroker = 0;
  const sockets = await openMany(10_000, 200, async () => {
    const s = await socketTo(Math.random() < 0.5 ? b.ports.amqp : b.ports.stomp);
    s.on('error', () => {});
    s.on('close', () => closedByBroker++);
    s.resume();
    s.write(s.remotePort === b.ports.amqp ? 'AMQP' : 'CONNECT\nlogin:gu');
    return s;
  });
  const peak = b.rss();
  b.mark('waiting for the handshake timeout');
  const deadline = Date.now() + 30_000;
  while (closedByBroker < sockets.length && Date.now() < deadline) await sleep(200);
  await sleep(1000);
  const after = b.rss();
  const connectedOk = await amqpClient(b.ports.amqp).then(
    (s) => (s.destroy(), true),
    () => false,
  );
  await b.stop();
  return {
    scenario: 'half-open',
    summary: {
      baseMiB: base,
      peakMiB: peak,
      afterMiB: after,
      sockets: sockets.length,
      closedByBroker,
      connectedOk,
    },
    samples: b.samples,
  };
}

async function heartbeatStorm() {
  const b = await startBroker();
  const base = b.rss();
  b.mark('storm');
  const sockets = await openMany(2000, 100, () => stompClient(b.ports.stomp, '1,1'));
  const eol = Buffer.from('\n');
  const beat = setInterval(() => {
    for (const s of sockets) s.write(eol);
  }, 10);
  const t0 = process.cpuUsage();
  const started = Date.now();
  await sleep(10_000);
  clearInterval(beat);
  const peak = b.rss();
  const alive = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  await sleep(1000);
  const { user, system } = process.cpuUsage(t0);
  await b.stop();
  return {
    scenario: 'heartbeat-storm',
    summary: {
      baseMiB: base,
      peakMiB: peak,
      sessions: sockets.length,
      alive,
      eolsPerSecond: Math.round((sockets.length * 1000) / 10),
      seconds: (Date.now() - started) / 1000,
      loadGeneratorCpuSeconds: (user + system) / 1e6,
    },
    samples: b.samples,
  };
}

async function channels() {
  const b = await startBroker();
  const base = b.rss();
  b.mark('channels');
  let pending = 0;
  let done;
  const s = await amqpClient(b.ports.amqp, {
    onMethod: (_ch, m) => {
      if (m.id === M.BASIC_CONSUME_OK && --pending === 0) done();
    },
  });
  const points = [{ channels: 0, rssMiB: base }];
  for (let from = 1; from <= 2000; from += 250) {
    const all = new Promise((resolve) => (done = resolve));
    const frames = [];
    for (let ch = from; ch < from + 250; ch++) {
      pending++;
      frames.push(
        writer.method(ch, { id: M.CHANNEL_OPEN, outOfBand: '' }),
        declareFrame(ch, `ch-${ch}`, { durable: false, exclusive: true }),
        writer.method(ch, {
          id: M.BASIC_CONSUME,
          ticket: 0,
          queue: `ch-${ch}`,
          consumerTag: '',
          noLocal: false,
          noAck: false,
          exclusive: false,
          noWait: false,
          arguments: {},
        }),
      );
    }
    s.write(Buffer.concat(frames));
    await all;
    await sleep(300);
    points.push({ channels: from + 249, rssMiB: b.rss() });
  }
  s.destroy();
  await sleep(1000);
  const after = b.rss();
  await b.stop();
  return {
    scenario: 'channels',
    summary: {
      baseMiB: base,
      peakMiB: points[points.length - 1].rssMiB,
      afterCloseMiB: after,
      kibPerChannel: ((points[points.length - 1].rssMiB - base) * 1024) / 2000,
    },
    points,
    samples: b.samples,
  };
}

/** `n` producers on connections of their own; connection.blocked / unblocked are noted in `events`. */
async function startProducers(b, n, queue, body, events) {
  const producers = [];
  for (let i = 0; i < n; i++) {
    const s = await amqpClient(b.ports.amqp, {
      onMethod: (_ch, m) => {
        const t = b.samples.at(-1)?.t ?? 0;
        if (m.id === M.CONNECTION_BLOCKED) events.push({ t, event: `blocked (${m.reason})` });
        if (m.id === M.CONNECTION_UNBLOCKED) events.push({ t, event: 'unblocked' });
      },
    });
    s.write(writer.method(1, { id: M.CHANNEL_OPEN, outOfBand: '' }));
    producers.push(producer(s, queue, body));
  }
  return producers;
}

/** A publisher that sends as fast as its socket takes it; returns a stop function and its counters. */
function producer(socket, queue, body) {
  const props = { deliveryMode: 2 };
  const frames = [];
  const publish = writer.method(1, {
    id: M.BASIC_PUBLISH,
    ticket: 0,
    exchange: '',
    routingKey: queue,
    mandatory: false,
    immediate: false,
  });
  writer.content(1, props, body, frames);
  const one = Buffer.concat([publish, ...frames]);
  const batch = Buffer.concat(Array.from({ length: 64 }, () => one));
  const stats = { sent: 0, blocked: false, blockedAt: undefined };
  let running = true;
  const pump = () => {
    while (running && socket.write(batch)) stats.sent += 64;
    if (running) stats.sent += 64;
  };
  socket.on('drain', pump);
  pump();
  return { stats, stop: () => (running = false) };
}

async function slowConsumer() {
  const b = await startBroker('--max-old-space-size=400');
  const base = b.rss();
  const body = Buffer.alloc(1024, 0x61);
  const queue = 'backlog';
  // The consumer: prefetch 1000, then it stops reading its socket for good.
  const events = [];
  const consumer = await amqpClient(b.ports.amqp);
  consumer.write(
    Buffer.concat([
      writer.method(1, { id: M.CHANNEL_OPEN, outOfBand: '' }),
      declareFrame(1, queue),
      writer.method(1, { id: M.BASIC_QOS, prefetchSize: 0, prefetchCount: 1000, global: false }),
      writer.method(1, {
        id: M.BASIC_CONSUME,
        ticket: 0,
        queue,
        consumerTag: '',
        noLocal: false,
        noAck: false,
        exclusive: false,
        noWait: false,
        arguments: {},
      }),
    ]),
  );
  await sleep(200);
  consumer.pause();
  const producers = await startProducers(b, 2, queue, body, events);
  b.mark('flooding');
  await sleep(SECONDS * 1000);
  for (const p of producers) p.stop();
  const alarm = b.log.find((l) => l.msg === 'memory alarm raised: publishers are blocked');
  const peak = Math.max(...b.samples.map((s) => s.rssMiB));
  const sent = producers.reduce((n, p) => n + p.stats.sent, 0);
  const alive = b.child.exitCode === null && b.child.signalCode === null;
  const status = await b.stop();
  return {
    scenario: 'slow-consumer',
    summary: {
      baseMiB: base,
      peakMiB: peak,
      seconds: SECONDS,
      messagesWritten: sent,
      aliveAtEnd: alive,
      exit: status,
      alarmReason: alarm?.reason,
      events: events.slice(0, 20),
    },
    samples: b.samples,
  };
}

/** passive queue.declare from a connection of its own: the ready count, or undefined if it does not answer. */
async function queueDepth(port, queue) {
  let answer;
  const got = new Promise((resolve) => (answer = resolve));
  const s = await amqpClient(port, {
    onMethod: (_ch, m) => {
      if (m.id === M.QUEUE_DECLARE_OK) answer(m.messageCount);
    },
  });
  s.write(
    Buffer.concat([
      writer.method(1, { id: M.CHANNEL_OPEN, outOfBand: '' }),
      declareFrame(1, queue, { passive: true }),
    ]),
  );
  const depth = await Promise.race([got, sleep(10_000).then(() => undefined)]);
  s.destroy();
  return depth;
}

async function backlog() {
  const b = await startBroker('--max-old-space-size=400');
  const base = b.rss();
  const queue = 'backlog';
  const events = [];
  const depths = [];
  const body = Buffer.alloc(1024, 0x61);
  const declare = await amqpClient(b.ports.amqp);
  declare.write(
    Buffer.concat([writer.method(1, { id: M.CHANNEL_OPEN, outOfBand: '' }), declareFrame(1, queue)]),
  );
  await sleep(200);
  declare.destroy();
  const producers = await startProducers(b, 2, queue, body, events);
  b.mark('publishing');
  const started = Date.now();
  let depth = 0;
  let stalled = 0;
  while (depth < MESSAGES && stalled < 6 && b.child.exitCode === null) {
    await sleep(10_000);
    const d = (await queueDepth(b.ports.amqp, queue)) ?? depth;
    depths.push({ t: (Date.now() - started) / 1000, depth: d, rssMiB: b.rss() });
    process.stderr.write(`  backlog: ${d} queued, RSS ${b.rss().toFixed(0)} MiB\n`);
    stalled = d === depth ? stalled + 1 : 0;
    depth = d;
  }
  for (const p of producers) p.stop();
  const peak = Math.max(...b.samples.map((s) => s.rssMiB));
  const alive = b.child.exitCode === null && b.child.signalCode === null;
  const alarm = b.log.find((l) => l.msg === 'memory alarm raised: publishers are blocked');
  const status = await b.stop();
  return {
    scenario: 'backlog',
    summary: {
      baseMiB: base,
      peakMiB: peak,
      queued: depth,
      seconds: (Date.now() - started) / 1000,
      aliveAtEnd: alive,
      exit: status,
      alarmReason: alarm?.reason,
      events: events.slice(0, 10),
    },
    depths,
    samples: b.samples,
  };
}

const RUNNERS = {
  backlog,
  'idle-connections': idleConnections,
  'half-open': halfOpen,
  'heartbeat-storm': heartbeatStorm,
  channels,
  'slow-consumer': slowConsumer,
};

let results = {};
try {
  results = JSON.parse(readFileSync(OUT, 'utf8'));
} catch {
  // a first run
}
results.machine = {
  cpus: (await import('node:os')).cpus().length,
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
};
for (const name of scenarios) {
  const run = RUNNERS[name];
  if (run === undefined) throw new Error(`no scenario ${name}; one of ${ALL.join(', ')}`);
  process.stderr.write(`${name}...\n`);
  const r = await run();
  results[name] = r;
  process.stdout.write(`${name}: ${JSON.stringify(r.summary)}\n`);
  writeFileSync(OUT, `${JSON.stringify(results, null, 1)}\n`);
}
