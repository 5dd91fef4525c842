/**
 * The result of a run as one flat object (no nesting, so `sed`/`awk` read the JSON line as easily as `jq`),
 * with amqp-load's field names where the meaning is the same. `null` means "not measured".
 */
import type { Consumer } from './consumer';
import type { Histogram } from './histogram';
import type { PerfOptions } from './options';
import type { CpuSample } from './proc-stats';
import type { Producer } from './producer';
import type { RunContext } from './run-context';
import type { Topology } from './topology';

export interface ProgressSample {
  t_s: number;
  pub_rate: number;
  cons_rate: number;
  backlog: number;
}

export type RunResult = Record<string, string | number | boolean | null>;

export interface ResultInput {
  o: PerfOptions;
  run: RunContext;
  topo: Topology;
  producers: readonly Producer[];
  consumers: readonly Consumer[];
  expected: number;
  stopNs: number;
  latency: Histogram;
  confirmLatency: Histogram;
  cpu: [CpuSample, CpuSample];
  error: string | undefined;
}

const r3 = (v: number | undefined): number | null =>
  v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000;
const us = (ns: number | undefined): number | null => (ns === undefined ? null : r3(ns / 1000));
const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
const maxOf = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => Math.max(a, f(x)), 0);

export function buildResult(i: ResultInput): RunResult {
  const { o, run, producers, consumers, latency: lat, confirmLatency: cl } = i;
  const published = sum(producers, (p) => p.published);
  const consumed = sum(consumers, (c) => c.consumed);
  const lastPublishNs = maxOf(producers, (p) => p.lastPublishNs);
  const lastDeliveryNs = maxOf(consumers, (c) => c.lastDeliveryNs);
  const counted = o.count > 0;
  // Duration runs: the fixed window. --count runs: from the window start to the last publish / delivery.
  const pubWindowS = counted ? Math.max(0, lastPublishNs - run.winStartNs) / 1e9 : o.duration;
  const consWindowS = counted ? Math.max(0, lastDeliveryNs - run.winStartNs) / 1e9 : o.duration;
  const pubInWindow = sum(producers, (p) => p.pubInWindow);
  const consInWindow = sum(consumers, (c) => c.consInWindow);
  const drained = consumed >= i.expected;
  const [c0, c1] = i.cpu;
  const wallS = (c1.atNs - c0.atNs) / 1e9;
  const clientCpuS = c1.selfS - c0.selfS;
  const brokerCpuS =
    c0.brokerS !== undefined && c1.brokerS !== undefined ? c1.brokerS - c0.brokerS : undefined;
  const machineS =
    c0.machineBusyS !== undefined && c1.machineBusyS !== undefined
      ? c1.machineBusyS - c0.machineBusyS
      : undefined;
  const confirms = o.confirm > 0;
  return {
    tool: 'warren-perf',
    label: o.label,
    ok: i.error === undefined,
    ...(i.error === undefined ? {} : { error: i.error }),
    drained,
    drain_s: drained && lastDeliveryNs > 0 ? r3(Math.max(0, lastDeliveryNs - lastPublishNs) / 1e9) : null,
    host: `${o.host}:${o.port}`,
    producers: o.producers,
    consumers: o.consumers,
    size: o.size,
    persistent: o.persistent,
    confirm_window: o.confirm,
    ack: o.ack,
    prefetch: o.prefetch,
    ack_every: o.ackEvery,
    queues: i.topo.queues.length,
    fanout: o.fanout,
    topic_bindings: o.topic,
    rate_target: o.rate,
    max_backlog: o.maxBacklog,
    publish_batch: o.publishBatch,
    duration_s: counted ? null : o.duration,
    warmup_s: o.warmup,
    count: counted ? o.count : null,
    published,
    consumed,
    expected: i.expected,
    missing: Math.max(0, i.expected - consumed),
    stale: sum(consumers, (c) => c.stale),
    pub_rate: pubWindowS > 0 ? r3(pubInWindow / pubWindowS) : null,
    cons_rate: consWindowS > 0 && o.consumers > 0 ? r3(consInWindow / consWindowS) : null,
    pub_window_s: r3(pubWindowS),
    cons_window_s: r3(consWindowS),
    lat_samples: lat.count,
    lat_us_min: lat.count > 0 ? us(lat.min) : null,
    lat_us_p50: us(lat.quantile(0.5)),
    lat_us_p75: us(lat.quantile(0.75)),
    lat_us_p90: us(lat.quantile(0.9)),
    lat_us_p95: us(lat.quantile(0.95)),
    lat_us_p99: us(lat.quantile(0.99)),
    lat_us_p999: us(lat.quantile(0.999)),
    lat_us_max: lat.count > 0 ? us(lat.max) : null,
    lat_us_mean: us(lat.mean()),
    confirmed: confirms ? sum(producers, (p) => p.confirmed) : null,
    nacked: confirms ? sum(producers, (p) => p.nacked) : null,
    confirm_us_p50: confirms ? us(cl.quantile(0.5)) : null,
    confirm_us_p99: confirms ? us(cl.quantile(0.99)) : null,
    confirm_us_max: confirms && cl.count > 0 ? us(cl.max) : null,
    wall_s: r3(wallS),
    client_cpu_s: r3(clientCpuS),
    client_cores: wallS > 0 ? r3(clientCpuS / wallS) : null,
    broker_cpu_s: r3(brokerCpuS),
    broker_cores: brokerCpuS !== undefined && wallS > 0 ? r3(brokerCpuS / wallS) : null,
    broker_cpu_us_per_msg:
      brokerCpuS !== undefined && consumed > 0 ? r3((brokerCpuS * 1e6) / consumed) : null,
    broker_rss_kb_before: c0.brokerRssKb ?? null,
    broker_rss_kb_after: c1.brokerRssKb ?? null,
    other_cores:
      machineS !== undefined && brokerCpuS !== undefined && wallS > 0
        ? r3((machineS - clientCpuS - brokerCpuS) / wallS)
        : null,
    machine_cores_busy: machineS !== undefined && wallS > 0 ? r3(machineS / wallS) : null,
  };
}
