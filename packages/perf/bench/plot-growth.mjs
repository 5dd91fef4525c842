#!/usr/bin/env node
/**
 * Draws docs/growth.svg from the results of growth.mjs (docs/growth.json): one row per sweep, five panels
 * across it (msgs/s, p99 latency, broker RSS, broker CPU per message, the broker's GC share of the window)
 * against the swept dimension on a log scale, with the knee named in docs/benchmarks.md as a dashed line.
 * Vega-Lite renders the SVG headless.
 *
 *   node packages/perf/bench/plot-growth.mjs [results.json] [out.svg] [--tables]
 *
 * --tables also prints each sweep's table as Markdown (for docs/benchmarks.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const input = positional[0] ?? 'docs/growth.json';
const output = positional[1] ?? 'docs/growth.svg';
const r = JSON.parse(readFileSync(input, 'utf8'));

/**
 * The knee of each curve as docs/benchmarks.md ("How cost grows") names it from the run in docs/growth.json,
 * with the measured reason in a few words. Re-read them after a new run.
 */
const KNEES = {
  queues: { x: 100_000, why: 'a 470 MiB heap: GC 16% -> 32% of the window' },
  'busy-queues': { x: 1000, why: 'GC 19% -> 23%; another process took 0.54 cores here' },
  consumers: { x: 100, why: 'every delivery scans all consumers and costs its own writev' },
  connections: { x: 10_000, why: 'GC 23% -> 27%, 10.1 us/msg' },
  size: { x: 4096, why: 'per-byte cost (copies, writev, GC) passes the per-message cost' },
  backlog: { x: 10_000_000, why: 'drain 132k -> 80k msgs/s (not profiled)' },
  topic: { x: 10_000, why: 'more keys than the 4,096-entry cache; at 1M the heap, GC 56%' },
  fanout: { x: 1000, why: 'GC 9% -> 19% with 1,000 consumer connections' },
};

const WIDTH = 180;
const HEIGHT = 120;
const ORDER = ['queues', 'busy-queues', 'consumers', 'connections', 'size', 'backlog', 'topic', 'fanout'];

const mib = (kb) => (kb == null ? null : kb / 1024);
const ms = (us) => (us == null ? null : us / 1000);
const pct = (share) => (share == null ? null : share * 100);

/** The series of each panel for one point: [panel, series, value]. */
function values(name, p) {
  if (name === 'backlog') {
    return [
      ['msgs/s', 'fill (confirms)', p.fill_rate],
      ['msgs/s', 'drain', p.drain_rate],
      ['p99 (ms)', 'confirm p99', ms(p.confirm_us_p99)],
      ['RSS (MiB)', 'at full depth', mib(p.full_rss_kb)],
      ['RSS (MiB)', 'peak while draining', mib(p.drain_rss_peak_kb)],
      ['µs/msg', 'fill', p.fill_cpu_us_per_msg],
      ['µs/msg', 'drain', p.drain_cpu_us_per_msg],
      ['GC %', 'fill', pct(p.gc_share)],
      ['GC %', 'drain', pct(p.drain_gc_share)],
    ];
  }
  const rows = [
    ['msgs/s', name === 'fanout' ? 'deliveries' : 'consumed', p.cons_rate],
    ['p99 (ms)', 'end-to-end p99', ms(p.lat_us_p99)],
    ['RSS (MiB)', 'after the run', mib(p.broker_rss_kb_after)],
    ['µs/msg', name === 'fanout' ? 'per delivery' : 'per message', p.broker_cpu_us_per_msg],
    ['GC %', 'pauses + marking', pct(p.gc_share)],
  ];
  if (name === 'fanout') rows.splice(1, 0, ['msgs/s', 'published', p.pub_rate]);
  return rows;
}

const PANELS = [
  ['msgs/s', 'msgs/s'],
  ['p99 (ms)', 'p99 (ms)'],
  ['RSS (MiB)', 'RSS (MiB)'],
  ['µs/msg', 'CPU µs / msg'],
  ['GC %', '% of the window'],
];
const PANEL_TITLES = ['', 'p99 latency', 'broker RSS', 'broker CPU per message', "broker's GC (main thread)"];

/** A title as lines of at most ~40 characters: a long one would widen its column of the grid. */
function wrap(text, width = 40) {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (lines[last].length > 0 && lines[last].length + word.length + 1 > width) lines.push(word);
    else lines[last] = lines[last] ? `${lines[last]} ${word}` : word;
  }
  return lines;
}
/** Panels whose values span decades get a log y axis. */
const LOG_Y = new Set(['p99 (ms)', 'size:msgs/s', 'size:µs/msg', 'backlog:RSS (MiB)']);

function row(name, sweep) {
  const data = [];
  for (const p of sweep.points) {
    if (!p.ok) continue;
    for (const [panel, series, value] of values(name, p)) {
      const log = LOG_Y.has(panel) || LOG_Y.has(`${name}:${panel}`);
      if (value != null && Number.isFinite(value) && (value > 0 || !log))
        data.push({ x: p.x, panel, series, value });
    }
  }
  const knee = KNEES[name];
  const xs = sweep.points.map((p) => p.x);
  const decades = [];
  for (let d = 1; d <= Math.max(...xs) * 1.01; d *= 10) if (d >= Math.min(...xs) / 1.01) decades.push(d);
  const panels = PANELS.map(([panel, yTitle], i) => {
    const log = LOG_Y.has(panel) || LOG_Y.has(`${name}:${panel}`);
    const layer = [
      {
        data: { values: data.filter((d) => d.panel === panel) },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            scale: { type: 'log' },
            title: sweep.xTitle,
            axis: { values: decades, format: '~s' },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            title: yTitle,
            scale: log ? { type: 'log' } : { zero: true },
          },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
        },
      },
    ];
    if (knee !== undefined) {
      layer.push({
        data: { values: [{ x: knee.x }] },
        mark: { type: 'rule', color: 'firebrick', strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      });
    }
    return {
      title:
        i === 0
          ? { text: wrap(sweep.title), subtitle: knee ? wrap(`knee at ${knee.x}: ${knee.why}`) : '' }
          : { text: wrap(PANEL_TITLES[i]), subtitle: knee ? ' ' : '' },
      width: WIDTH,
      height: HEIGHT,
      layer,
      resolve: { scale: { color: 'independent' } },
    };
  });
  return panels;
}

const panels = ORDER.filter((name) => r.sweeps[name]).flatMap((name) => row(name, r.sweeps[name]));
const m = r.machine;
const spec = vl.compile({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: {
    text: `How Warren's cost grows (${m.cpus} vCPU, Node ${m.node}, ${r.started.slice(0, 10)}, commit ${m.commit})`,
    subtitle: `one dimension at a time from ${r.settings.base}, ${r.settings.seconds} s per point after ${r.settings.warmup} s of warm-up; log x`,
    fontSize: 14,
  },
  concat: panels,
  columns: PANELS.length,
  spacing: { row: 28, column: 24 },
  config: {
    font: 'sans-serif',
    title: { fontSize: 11, anchor: 'start', subtitleFontSize: 10, subtitleColor: 'firebrick' },
    view: { stroke: '#ddd' },
    axis: { labelFontSize: 9, titleFontSize: 10 },
    legend: { labelFontSize: 9 },
  },
}).spec;
const view = new vega.View(vega.parse(spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
process.stdout.write(`wrote ${output}\n`);

// ---- the tables -------------------------------------------------------------------------------------------------

const n0 = (v) => (v == null ? '–' : Math.round(v).toLocaleString('en-US'));
const n1 = (v) =>
  v == null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const n2 = (v) => (v == null ? '–' : v.toFixed(2));
const common = [
  ['p99 ms', (p) => n1(ms(p.lat_us_p99))],
  ['RSS MiB', (p) => n0(mib(p.broker_rss_kb_after))],
  ['broker µs/msg', (p) => n1(p.broker_cpu_us_per_msg)],
  ['GC %', (p) => n0(pct(p.gc_share))],
  [
    'broker / client / other cores',
    (p) => `${n2(p.broker_cores)} / ${n2(p.client_cores)} / ${n2(p.other_cores)}`,
  ],
];
const COLUMNS = {
  default: [['msgs/s', (p) => n0(p.cons_rate)], ...common],
  queues: [
    ['msgs/s', (p) => n0(p.cons_rate)],
    ...common,
    ['declares/s', (p) => n0(p.declare_per_s)],
    ['KiB per idle queue', (p) => n1(p.idle_rss_kb_per_queue)],
    ['idle broker cores', (p) => n2(p.idle_broker_cores)],
  ],
  size: [['msgs/s', (p) => n0(p.cons_rate)], ['MiB/s', (p) => n1((p.cons_rate * p.x) / 1048576)], ...common],
  fanout: [['deliveries/s', (p) => n0(p.cons_rate)], ['published/s', (p) => n0(p.pub_rate)], ...common],
  backlog: [
    ['fill msgs/s', (p) => n0(p.fill_rate)],
    ['confirm p99 ms', (p) => n1(ms(p.confirm_us_p99))],
    ['fill µs/msg', (p) => n1(p.fill_cpu_us_per_msg)],
    ['RSS at full depth MiB', (p) => n0(mib(p.full_rss_kb))],
    ['data dir MiB', (p) => n0(mib(p.data_dir_kb))],
    ['drain msgs/s', (p) => n0(p.drain_rate)],
    ['drain µs/msg', (p) => n1(p.drain_cpu_us_per_msg)],
    ['peak RSS draining MiB', (p) => n0(mib(p.drain_rss_peak_kb))],
    ['GC % fill / drain', (p) => `${n0(pct(p.gc_share))} / ${n0(pct(p.drain_gc_share))}`],
  ],
};

if (process.argv.includes('--tables')) {
  for (const name of ORDER.filter((n) => r.sweeps[n])) {
    const sweep = r.sweeps[name];
    const cols = COLUMNS[name] ?? COLUMNS.default;
    const lines = [`${sweep.title}:`, '', `| ${[sweep.xTitle, ...cols.map((c) => c[0])].join(' | ')} |`];
    lines.push(`| ${['--:', ...cols.map(() => '--:')].join(' | ')} |`);
    for (const p of sweep.points) {
      const cells = p.ok
        ? cols.map((c) => c[1](p))
        : cols.map((_, i) => (i === 0 ? `failed: ${p.error}` : ''));
      lines.push(`| ${[n0(p.x), ...cells].join(' | ')} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
}
