#!/usr/bin/env node
/**
 * Draws docs/cluster-rates.svg from the raw lines of packages/cluster/bench/cluster-compare.mjs kept in
 * docs/bench-data/cluster-<date>.txt (its main pass: one JSON line per run): per harness row, the
 * median delivered rate (cons_rate; latency rows: p50) of a single node with its journal beside one node of
 * the cluster, log scale, and the broker CPU per message of each (the cluster's: every Warren node and
 * nats-server). Vega-Lite renders the SVG headless.
 *
 *   node packages/perf/bench/plot-cluster.mjs [docs/bench-data/cluster-2026-12-03.txt] [docs/cluster-rates.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';

const input = process.argv[2] ?? 'docs/bench-data/cluster-2026-12-03.txt';
const output = process.argv[3] ?? 'docs/cluster-rates.svg';
// The main pass only: the lines after "## raw lines, main pass", up to the next "##" heading.
const text = readFileSync(input, 'utf8');
const from = text.indexOf('## raw lines, main pass');
const section = from < 0 ? text : text.slice(from).split(/\n(?=## )/)[0];
const runs = section
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l))
  .filter((r) => r.ok === true && (r.target === 'single' || r.target === 'cluster'));

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const label = { single: 'single node (journal)', cluster: 'cluster (2 nodes, 3 nats-server, R3)' };
const scenarios = [...new Set(runs.map((r) => r.scenario))];
const rates = [];
const cpu = [];
const latency = [];
for (const scenario of scenarios) {
  for (const target of ['single', 'cluster']) {
    const rs = runs.filter((r) => r.scenario === scenario && r.target === target);
    if (rs.length === 0) continue;
    const t = label[target];
    if (scenario.includes('latency')) {
      latency.push({ scenario, target: t, value: median(rs.map((r) => r.lat_us_p50)) / 1000, n: rs.length });
    } else {
      rates.push({ scenario, target: t, value: median(rs.map((r) => r.cons_rate)), n: rs.length });
    }
    cpu.push({ scenario, target: t, value: median(rs.map((r) => r.all_broker_us_per_msg)), n: rs.length });
  }
}

const bars = (title, values, xTitle, scale) => ({
  title,
  width: 360,
  data: { values },
  // Log scales have no zero: the bars start at the domain's low end.
  mark: { type: 'bar', clip: true },
  encoding: {
    y: { field: 'scenario', type: 'nominal', title: null, sort: null, axis: { labelLimit: 260 } },
    yOffset: { field: 'target' },
    x: { field: 'value', type: 'quantitative', title: xTitle, scale },
    color: { field: 'target', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
    tooltip: [{ field: 'value' }, { field: 'n', title: 'runs' }],
  },
});

const date = runs[0]?.time ?? input.replace(/.*cluster-(\d{4}-\d\d-\d\d).*/, '$1');
const spec = vl.compile({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: `Warren: single node vs cluster on one 2-core machine (${date}, medians)`, fontSize: 14 },
  vconcat: [
    {
      hconcat: [
        bars('delivered msgs/s (log scale)', rates, 'cons msgs/s', { type: 'log', domain: [1000, 500000] }),
        bars('broker CPU per message, all broker processes', cpu, 'µs CPU / msg (log scale)', {
          type: 'log',
          domain: [1, 3000],
        }),
      ],
    },
    bars('end-to-end latency p50 at 1000 msgs/s', latency, 'ms (log scale)', {
      type: 'log',
      domain: [0.1, 10],
    }),
  ],
  config: { font: 'sans-serif', title: { fontSize: 11, anchor: 'start' }, view: { stroke: '#ddd' } },
}).spec;
const view = new vega.View(vega.parse(spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
process.stdout.write(`wrote ${output}\n`);
