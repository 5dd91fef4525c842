#!/usr/bin/env node
/**
 * The shared harness's scenario matrix (../shared/bench/compare.sh: its MATRIX rows are read from the
 * script, so the flags are exactly compare.sh's) against a single Warren node and against one node of a
 * Warren cluster, alternately (single, cluster; then cluster, single; ...), with every run's CPU accounted to
 * each process of the cluster: compare.sh's `--broker-pid` sees one process, and a cluster is six (Warren
 * nodes and nats-servers), whose CPU it would count as "other" load and drop the run.
 *
 *   node packages/cluster/bench/cluster-compare.mjs --single HOST:AMQP:STOMP:WS:PID \
 *     --cluster HOST:AMQP:STOMP:WS:PID --cluster-pids PID,PID,... [-r 3] [-s rows] [-x C]
 *     [--bench ../shared/bench] [-o out.jsonl]
 *
 * --cluster-pids: every other process of the cluster (the other Warren nodes and the nats-servers; the
 * pids warren-cluster.mjs prints). Producers and consumers both go through --cluster's node (see runPubOnly).
 *
 * Every run appends one JSON line (the tool's, plus `target`, `rep`, `scenario`, `cpu` per process in
 * seconds, `all_broker_us_per_msg` = CPU of every broker process ÷ messages consumed, and `other_cores_all` =
 * machine busy − broker processes − client, per second of the run) and prints a one-line summary; at the end
 * a table of medians over the runs that succeeded (-x C also leaves out runs with other_cores_all > C, as
 * compare.sh does with 0.5; off by default, since this machine is shared and that would leave nothing).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bench = opt('--bench', fileURLToPath(new URL('../../../../shared/bench', import.meta.url)));
const reps = Number(opt('-r', '3'));
const rowsWanted = opt('-s', 'all');
const out = opt('-o', join(tmpdir(), `cluster-compare-${Date.now()}.jsonl`));
const DUR = '5';
const WARM = '1';
const BACKLOG = '10000';
const MAXOTHER = opt('-x', 'off') === 'off' ? Infinity : Number(opt('-x'));

function target(spec, name) {
  if (spec === undefined) return undefined;
  const [host, amqp, stomp, ws, pid] = spec.split(':');
  return { name, host, amqp, stomp, ws, pid: Number(pid) };
}
const single = target(opt('--single'), 'single');
const cluster = target(opt('--cluster'), 'cluster');
const clusterPids = (opt('--cluster-pids', '') || '').split(',').filter(Boolean).map(Number);

// compare.sh's matrix, parsed from the script: "name|tool|kind|arguments".
const matrix = [];
for (const m of readFileSync(`${bench}/compare.sh`, 'utf8').matchAll(
  /^ {2}"([^"|]+)\|(\w+)\|(\w+)\|([^"]*)"$/gm,
)) {
  const [, name, tool, kind, a] = m;
  if (kind === 'conn') continue;
  if (rowsWanted !== 'all' && !rowsWanted.split(',').includes(name)) continue;
  matrix.push({ name, tool, kind, args: a.split(' ').filter(Boolean) });
}

const TICK = 100; // USER_HZ
function procCpu(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
  } catch {
    return NaN;
  }
}
function machineBusy() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / TICK;
}
const jget = (line) => {
  try {
    return JSON.parse(line);
  } catch {
    return { ok: false, error: `unparsable: ${line.slice(0, 200)}` };
  }
};

function toolArgs(row, t, extra) {
  const common = ['--duration', DUR, '--warmup', WARM, '--drain-timeout', '3', '--label', row.name];
  if (row.kind === 'tput') common.push('--max-backlog', BACKLOG);
  if (t.pid) common.push('--broker-pid', String(t.pid));
  if (row.tool === 'amqp')
    return ['amqp-load', ['--host', t.host, '--port', t.amqp, ...common, ...row.args, ...extra]];
  if (row.tool === 'stomp')
    return ['stomp-load', ['--host', t.host, '--port', t.stomp, ...common, ...row.args]];
  return ['stomp-load', ['--host', t.host, '--port', t.ws, '--ws', '/ws', ...common, ...row.args]];
}

function pidsOf(t) {
  return t.name === 'cluster' ? [t.pid, ...clusterPids] : [t.pid];
}

function runOne(row, t, rep, label = t.name) {
  const pids = pidsOf(t);
  const before = pids.map(procCpu);
  const busy0 = machineBusy();
  const t0 = process.hrtime.bigint();
  const [bin, a] = toolArgs(row, t, []);
  const r = spawnSync(`${bench}/bin/${bin}`, a, { encoding: 'utf8', timeout: 60_000 });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const busy = machineBusy() - busy0;
  const cpu = pids.map((p, i) => procCpu(p) - before[i]);
  const j = jget((r.stdout || '').trim().split('\n').pop() || '{}');
  if (row.tool !== 'amqp' && typeof j.destination === 'string' && j.destination.startsWith('/queue/')) {
    spawnSync(`${bench}/bin/amqp-load`, [
      '--host',
      t.host,
      '--port',
      t.amqp,
      '--quiet',
      '--delete-queue',
      j.destination.slice(7),
    ]);
  }
  const brokerCpu = cpu.reduce((s, c) => s + c, 0);
  const rec = {
    target: label,
    rep,
    scenario: row.name,
    elapsed_s: elapsed,
    cpu: Object.fromEntries(pids.map((p, i) => [p, Number(cpu[i].toFixed(3))])),
    all_broker_cpu_s: brokerCpu,
    all_broker_us_per_msg: j.consumed > 0 ? (brokerCpu * 1e6) / j.consumed : null,
    other_cores_all: (busy - brokerCpu - (j.client_cpu_s ?? 0)) / elapsed,
    ...j,
  };
  appendFileSync(out, `${JSON.stringify(rec)}\n`);
  const key =
    row.kind === 'lat' ? `p50=${j.lat_us_p50} p99=${j.lat_us_p99}` : `cons=${j.cons_rate} pub=${j.pub_rate}`;
  process.stderr.write(
    `  ${row.name.padEnd(30)} ${label.padEnd(8)} rep ${rep}: ${j.ok ? key : `FAILED ${j.error}`} ` +
      `us/msg=${j.broker_cpu_us_per_msg} all_us/msg=${rec.all_broker_us_per_msg?.toFixed(1)} ` +
      `other=${rec.other_cores_all.toFixed(2)}\n`,
  );
  spawnSync('sleep', ['1']);
  return rec;
}

/**
 * The harness cannot consume on one node while it publishes through another: with --producers 0 amqp-load
 * ends at once (it has nothing to wait for). What it can do is publish only: a producer-only run of a row on
 * the cluster's node measures the publish side (confirm = JetStream PubAck) without the deliveries.
 */
function runPubOnly(row, rep) {
  const queue = `bench-pubonly-${process.pid}-${rep}`;
  const keep = (a, i, all) =>
    !['--producers', '--consumers'].includes(a) && !['--producers', '--consumers'].includes(all[i - 1]);
  const pubRow = {
    ...row,
    kind: 'pubonly',
    args: [...row.args.filter(keep), '--producers', '1', '--consumers', '0', '--queue', queue],
  };
  const rec = runOne(pubRow, { ...cluster, name: 'cluster' }, rep, 'pub-only');
  spawnSync(`${bench}/bin/amqp-load`, [
    '--host',
    cluster.host,
    '--port',
    cluster.amqp,
    '--quiet',
    '--delete-queue',
    queue,
  ]);
  return rec;
}

const PUBONLY_ROWS = new Set(['amqp-persist-confirm-1k']);
const all = [];
for (let rep = 1; rep <= reps; rep++) {
  process.stderr.write(`== repetition ${rep}/${reps} (${new Date().toISOString()})\n`);
  for (const row of matrix) {
    const order = rep % 2 === 1 ? [single, cluster] : [cluster, single];
    for (const t of order) if (t !== undefined) all.push(runOne(row, t, rep));
    if (cluster !== undefined && PUBONLY_ROWS.has(row.name)) all.push(runPubOnly(row, rep));
  }
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const fmt = (x) => (x === null ? '-' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const lines = [];
const cols = [
  'scenario',
  'target',
  'n',
  'cons/s',
  'pub/s',
  'p50_us',
  'p99_us',
  'node_us/msg',
  'all_us/msg',
  'other',
];
lines.push(cols.join('\t'));
for (const row of matrix) {
  for (const t of ['single', 'cluster', 'pub-only']) {
    const runs = all.filter((r) => r.scenario === row.name && r.target === t);
    if (runs.length === 0) continue;
    const good = runs.filter((r) => r.ok && r.other_cores_all <= MAXOTHER);
    const m = (k) => median(good.map((r) => r[k]));
    lines.push(
      [
        row.name,
        t,
        `${good.length}/${runs.length}`,
        fmt(m('cons_rate')),
        fmt(m('pub_rate')),
        fmt(m('lat_us_p50')),
        fmt(m('lat_us_p99')),
        fmt(m('broker_cpu_us_per_msg')),
        fmt(m('all_broker_us_per_msg')),
        fmt(median(runs.map((r) => r.other_cores_all))),
      ].join('\t'),
    );
  }
}
process.stdout.write(`${lines.join('\n')}\nraw: ${out}\n`);
