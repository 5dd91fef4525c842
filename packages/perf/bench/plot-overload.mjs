#!/usr/bin/env node
/**
 * Draws docs/overload-rss.svg from the results of overload-rss.mjs (docs/overload-rss.json): the broker's RSS
 * against the number of idle connections, of channels and of queued persistent messages, and over time in the
 * slow-consumer flood (with the moment publishers were blocked), the half-open flood and the heart-beat storm. Vega-Lite renders the SVG
 * headless, no browser or canvas needed.
 *
 *   node packages/perf/bench/plot-overload.mjs [results.json] [out.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';

const input = process.argv[2] ?? 'docs/overload-rss.json';
const output = process.argv[3] ?? 'docs/overload-rss.svg';
const r = JSON.parse(readFileSync(input, 'utf8'));

const WIDTH = 380;
const HEIGHT = 200;
const rss = { field: 'rssMiB', type: 'quantitative', title: 'broker RSS (MiB)' };

function panel(title, layerOrSpec) {
  return { title, width: WIDTH, height: HEIGHT, ...layerOrSpec };
}

const panels = [];
const idle = r['idle-connections'];
if (idle) {
  const values = idle.points.map((p) => ({ ...p, kind: p.protocol === 'amqp' ? 'AMQP' : 'STOMP' }));
  panels.push(
    panel(
      `Idle connections: ${idle.summary.kibPerAmqp.toFixed(1)} KiB per AMQP, ${idle.summary.kibPerStomp.toFixed(1)} KiB per STOMP`,
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'connections',
            type: 'quantitative',
            title: 'open connections (AMQP first, then STOMP)',
          },
          y: rss,
          color: { field: 'kind', type: 'nominal', title: null },
        },
      },
    ),
  );
}
const ch = r.channels;
if (ch) {
  panels.push(
    panel(`One connection, a consumer per channel: ${ch.summary.kibPerChannel.toFixed(1)} KiB per channel`, {
      data: { values: ch.points },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'channels', type: 'quantitative', title: 'channels with a consumer' }, y: rss },
    }),
  );
}
const slow = r['slow-consumer'];
if (slow) {
  const blocked = (slow.summary.events ?? []).filter((e) => e.event.startsWith('blocked'));
  panels.push(
    panel(
      `${(slow.summary.messagesWritten / 1e6).toFixed(1)} M persistent in ${slow.summary.seconds} s, consumer not reading, 400 MB heap: ${
        !slow.summary.aliveAtEnd
          ? 'DIED'
          : blocked.length > 0
            ? `blocked at ${blocked[0].t.toFixed(0)} s`
            : 'alive'
      }`,
      {
        layer: [
          {
            data: { values: slow.samples },
            mark: 'line',
            encoding: { x: { field: 't', type: 'quantitative', title: 'seconds' }, y: rss },
          },
          {
            data: { values: blocked.slice(0, 1) },
            mark: { type: 'rule', color: 'firebrick', strokeDash: [4, 3] },
            encoding: { x: { field: 't', type: 'quantitative' } },
          },
          {
            data: { values: blocked.slice(0, 1).map((e) => ({ ...e, label: 'publishers blocked' })) },
            mark: { type: 'text', align: 'right', dx: -4, dy: -90, color: 'firebrick' },
            encoding: { x: { field: 't', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ),
  );
}
const backlog = r.backlog;
if (backlog) {
  const values = backlog.depths.map((d) => ({ ...d, millions: d.depth / 1e6 }));
  const perMessage = ((backlog.summary.peakMiB - backlog.summary.baseMiB) * 1048576) / backlog.summary.queued;
  panels.push(
    panel(
      `${(backlog.summary.queued / 1e6).toFixed(1)} M persistent 1 KiB messages queued, 400 MB heap: ${backlog.summary.aliveAtEnd ? 'alive' : 'DIED'}, ~${Math.round(perMessage)} B RSS each`,
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'millions', type: 'quantitative', title: 'messages queued (millions)' },
          y: rss,
        },
      },
    ),
  );
}
for (const [key, title] of [
  ['half-open', 'Flood of 10,000 half-open handshakes, cut after handshakeTimeoutMs'],
  ['heartbeat-storm', 'Heart-beat storm: 2,000 sessions, an EOL each every 10 ms'],
]) {
  const s = r[key];
  if (!s) continue;
  panels.push(
    panel(title, {
      data: { values: s.samples },
      mark: 'line',
      encoding: { x: { field: 't', type: 'quantitative', title: 'seconds' }, y: rss },
    }),
  );
}

const rows = [];
for (let i = 0; i < panels.length; i += 2) rows.push({ hconcat: panels.slice(i, i + 2) });
const spec = vl.compile({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: {
    text: `Warren broker RSS under overload (${r.machine.cpus} vCPU, Node ${r.machine.node}, ${r.machine.date})`,
    fontSize: 14,
  },
  vconcat: rows,
  config: { font: 'sans-serif', title: { fontSize: 11, anchor: 'start' }, view: { stroke: '#ddd' } },
}).spec;
const view = new vega.View(vega.parse(spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
process.stdout.write(`wrote ${output}\n`);
