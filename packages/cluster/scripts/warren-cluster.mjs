#!/usr/bin/env node
/**
 * A Warren cluster on one machine, for demos and benchmarks (issue 16): three nats-server processes as a
 * JetStream cluster (startNatsCluster, as nats-cluster.mjs) and N Warren nodes, each a child process of
 * `node packages/server/bin/warren.js start` with its own ports and data directory under os.tmpdir(). Once
 * every node has logged that each of its listeners is listening it prints a table of nodes and ports; Ctrl-C
 * (or SIGTERM) stops the nodes (SIGTERM, as an operator would), then the NATS servers, and removes every
 * directory it made.
 *
 *   npm run build && node packages/cluster/scripts/warren-cluster.mjs [--nodes 2] [--servers 3]
 *       [--base-port 5790] [--log-dir DIR] [--node-option --cpu-prof ...] [-- extra warren start flags]
 *
 * Node i (1, 2, ...) listens on base+10i (AMQP), +1 (STOMP), +2 (STOMP over WebSocket, /ws), +3 (HTTP
 * management), +4 (Prometheus): with the defaults node 1 is 5800-5804, node 2 5810-5814. --base-port 0 lets
 * every listener pick a free port (the table says which; tests use it). Node logs (JSON) go to
 * node-<name>.log in the run's directory, removed at the end, or to --log-dir, which is kept; a node that
 * exits on its own has the end of its log printed.
 * --node-option adds one option for the node binary (before the script), e.g. --node-option --cpu-prof
 * --node-option --cpu-prof-dir=/tmp/prof; repeat it for several.
 *
 * It lives in packages/cluster/scripts beside nats-cluster.mjs because the repository has no top-level
 * scripts/ folder; the root package.json runs it as `npm run cluster -- [flags]`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import clusterLib from '@warren/cluster';

const { startNatsCluster } = clusterLib;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const warrenBin = join(root, 'packages/server/bin/warren.js');

function parseArgs(argv) {
  const opts = { nodes: 2, servers: 3, basePort: 5790, logDir: null, nodeOptions: [], extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const int = (v, least = 1) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < least) usage(`${a} wants an integer of at least ${least}, not ${v}`);
      return n;
    };
    if (a === '--') {
      opts.extra = argv.slice(i + 1);
      break;
    } else if (a === '--nodes') opts.nodes = int(value());
    else if (a === '--servers') opts.servers = int(value());
    else if (a === '--base-port') opts.basePort = int(value(), 0);
    else if (a === '--log-dir') opts.logDir = resolve(value());
    else if (a === '--node-option') opts.nodeOptions.push(value());
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (opts.basePort + 10 * opts.nodes + 4 > 65535) usage('--base-port too high for that many nodes');
  return opts;
}

function usage(error) {
  const text =
    'Usage: warren-cluster.mjs [--nodes 2] [--servers 3] [--base-port 5790] [--log-dir DIR]\n' +
    '                          [--node-option OPT]... [-- warren start flags]\n' +
    '--base-port 0: every listener on a free port.\n';
  if (error !== undefined) {
    process.stderr.write(`${error}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

const opts = parseArgs(process.argv.slice(2));
const LISTENERS = ['amqp', 'stomp', 'ws', 'http', 'prometheus'];

// max_payload 8 MiB (NATS advises no more): room for RabbitMQ-sized messages, see docs/cluster.md.
const nats = await startNatsCluster({ servers: opts.servers, maxPayload: 8 * 1024 * 1024 });
const runDir = await mkdtemp(join(tmpdir(), 'warren-cluster-'));
const logDir = opts.logDir ?? runDir;
mkdirSync(logDir, { recursive: true });
/** @type {{name: string, ports: Record<string, number>, child: import('node:child_process').ChildProcess, exited: Promise<number | null>, log: string, tail: () => string}[]} */
const nodes = [];

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  // The nodes first, with SIGTERM: they close their clients and leave the cluster while NATS is still there.
  const stoppedHere = new Set();
  for (const n of nodes)
    if (n.child.exitCode === null && n.child.signalCode === null) {
      stoppedHere.add(n);
      n.child.kill('SIGTERM');
    }
  const deadline = new Promise((r) => setTimeout(r, 15_000, 'timeout'));
  for (const n of nodes) {
    const result = await Promise.race([n.exited, deadline]);
    if (result === 'timeout') {
      process.stderr.write(`node ${n.name} did not stop in 15 s; killing it\n`);
      n.child.kill('SIGKILL');
      await n.exited;
      code = 1;
    } else if (result !== 0) {
      // One that exited on its own had the end of its log printed then.
      const end = stoppedHere.has(n) ? `; the end of its log:\n${n.tail()}` : '';
      process.stderr.write(`node ${n.name} exited with ${result}${end}\n`);
      code = 1;
    }
  }
  await nats.stop();
  await rm(runDir, { recursive: true, force: true });
  process.stdout.write('stopped\n');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  await nats.ready();
} catch (err) {
  process.stderr.write(`NATS cluster not ready: ${err.message}\n`);
  await stop(1);
}

/** The nats-server children of this process (for CPU accounting by benchmarks), from /proc; [] elsewhere. */
function natsPids() {
  const pids = [];
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
        if (m !== null && m[1] === 'nats-server' && Number(m[2]) === process.pid) pids.push(Number(pid));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return pids.sort((a, b) => a - b);
}

/** How many of a node's last log lines it prints when it exits on its own. */
const TAIL_LINES = 30;

function startNode(i) {
  const name = `node${i}`;
  const base = opts.basePort + 10 * i;
  // With --base-port 0 each listener picks a free port, and its 'listening' line says which.
  const ports = Object.fromEntries(LISTENERS.map((l, k) => [l, opts.basePort === 0 ? 0 : base + k]));
  const dataDir = join(runDir, name);
  const log = join(logDir, `${name}.log`);
  const args = [
    ...opts.nodeOptions,
    warrenBin,
    'start',
    ...LISTENERS.flatMap((l) => [`--${l}-port`, String(ports[l])]),
    '--data-dir',
    dataDir,
    '--log-format',
    'json',
    '--nats-servers',
    nats.urls.join(','),
    '--node-name',
    name,
    ...opts.extra,
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(log);
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal === null ? code : signal)));
  // The end of the log in memory too: the run's directory (and the file) is gone once the script stops.
  const lastLines = [];
  const keep = (line) => {
    lastLines.push(line);
    if (lastLines.length > TAIL_LINES) lastLines.shift();
  };
  const tail = () => lastLines.map((l) => `  ${l}`).join('\n');
  const listening = new Set();
  const ready = new Promise((resolveReady, rejectReady) => {
    const lines = (stream, onLine) => {
      let buffered = '';
      stream.on('data', (chunk) => {
        out.write(chunk);
        buffered += chunk.toString('utf8');
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          keep(line);
          onLine(line);
        }
      });
    };
    lines(child.stdout, (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg !== 'listening' || !LISTENERS.includes(entry.protocol)) return;
      if (ports[entry.protocol] === 0) ports[entry.protocol] = entry.port;
      if (ports[entry.protocol] === entry.port) listening.add(entry.protocol);
      if (listening.size === LISTENERS.length) resolveReady();
    });
    lines(child.stderr, () => {});
    void exited.then((code) =>
      rejectReady(
        new Error(`node ${name} exited (${code}) before listening; the end of its log:\n${tail()}`),
      ),
    );
  });
  const node = { name, ports, child, exited, log, tail, pid: child.pid };
  nodes.push(node);
  return ready;
}

try {
  // One after the other: the first seeds the cluster's topology, the next join what it made.
  for (let i = 1; i <= opts.nodes; i++) {
    await Promise.race([
      startNode(i),
      new Promise((_r, reject) =>
        setTimeout(() => reject(new Error(`node${i} not listening after 60 s`)), 60_000),
      ),
    ]);
  }
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  await stop(1);
}
if (stopping) await new Promise(() => {});

const header = ['node', 'pid', ...LISTENERS];
const rows = nodes.map((n) => [n.name, String(n.pid), ...LISTENERS.map((l) => String(n.ports[l]))]);
const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
const fmt = (r) =>
  r
    .map((c, k) => c.padEnd(widths[k]))
    .join('  ')
    .trimEnd();
process.stdout.write(`Warren cluster ready: ${nodes.length} nodes on ${nats.names.length} NATS servers\n`);
process.stdout.write(`${fmt(header)}\n${rows.map(fmt).join('\n')}\n`);
process.stdout.write(`NATS: ${nats.urls.join(',')} pids ${natsPids().join(',')} (files in ${nats.dir})\n`);
process.stdout.write(`node logs: ${logDir}; data: ${runDir}\n`);
process.stdout.write('Ctrl-C stops it.\n');

// A node that dies on its own takes the cluster down with it: a demo should not run half-broken.
for (const n of nodes) {
  void n.exited.then((code) => {
    if (stopping) return;
    process.stderr.write(`node ${n.name} exited (${code}); the end of its log:\n${n.tail()}\nstopping\n`);
    void stop(1);
  });
}
setInterval(() => undefined, 1 << 30);
