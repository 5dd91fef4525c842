/* global uPlot, document, getComputedStyle */
// Time-series charts with uPlot (loaded by index.html from the broker's node_modules). The console keeps what
// it polled in memory: no history lives in the broker, so a chart starts empty when the page loads.
import { h } from './dom.js';

/** How much history a chart keeps: RabbitMQ's UI shows the last ten minutes by default too. */
const WINDOW_MS = 10 * 60 * 1000;
const HEIGHT = 220;
const COLOURS = ['#5b3fd1', '#1a8f5a', '#d9822b', '#c23b5a', '#2b7bd9'];

/** Samples of a few named values over time, trimmed to the window. */
export class History {
  constructor(names) {
    this.names = names;
    this.times = [];
    this.values = names.map(() => []);
  }

  /** Records one sample; `values` maps each name to a number (missing ones count as 0). */
  push(at, values) {
    this.times.push(at / 1000);
    this.names.forEach((name, i) => this.values[i].push(values[name] ?? 0));
    const oldest = (at - WINDOW_MS) / 1000;
    while (this.times.length > 0 && this.times[0] < oldest) {
      this.times.shift();
      for (const series of this.values) series.shift();
    }
  }

  /** The newest sample by name, or undefined before the first. */
  last() {
    const n = this.times.length;
    if (n === 0) return undefined;
    return Object.fromEntries(this.names.map((name, i) => [name, this.values[i][n - 1]]));
  }
}

/**
 * A chart of a History: a figure whose plot is drawn once it is on the page and redrawn by update(). The
 * figure carries the sample count and the newest values as data attributes, for tests and scripts.
 */
export function lineChart(title, history, unit) {
  const plot = h('div', { class: 'plot' });
  const figure = h(
    'figure',
    { class: 'chart', role: 'group', 'aria-label': title },
    h('figcaption', {}, title),
    plot,
  );
  let chart;
  const data = () => [history.times, ...history.values];
  const width = () => Math.max(240, plot.clientWidth);
  return {
    el: figure,
    update() {
      figure.dataset.samples = String(history.times.length);
      figure.dataset.last = JSON.stringify(history.last() ?? {});
      if (!figure.isConnected) return;
      if (chart === undefined) {
        chart = new uPlot(options(history.names, width(), unit), data(), plot);
      } else {
        if (chart.width !== width()) chart.setSize({ width: width(), height: HEIGHT });
        chart.setData(data());
      }
    },
    destroy() {
      chart?.destroy();
    },
  };
}

function options(names, width, unit) {
  const text = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#666';
  const axis = {
    stroke: text,
    grid: { stroke: 'rgba(127,127,127,0.15)' },
    ticks: { stroke: 'rgba(127,127,127,0.3)' },
  };
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] } },
    axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((t) => `${t}${unit}`) }],
    series: [
      {},
      ...names.map((label, i) => ({
        label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        points: { show: false },
        value: (_u, v) => (v === null || v === undefined ? '–' : `${v}${unit}`),
      })),
    ],
  };
}
