import type { FixedHistogram } from '@warren/core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ObjectMetric, Scrape } from './objects';

/*
 * Metric families registered from values the broker already holds, read at scrape time: prom-client formats
 * and escapes them, but nothing here counts on the data path (exporter.ts says what each family is).
 */

export type Labels = Record<string, string>;
export type Sample = [Labels, number];

export function gauge(registry: Registry, name: string, help: string, samples: Iterable<Sample>): void {
  const samplesList = [...samples];
  const g = new Gauge({ name, help, labelNames: labelNamesOf(samplesList), registers: [registry] });
  precomputed(g, name, help, 'gauge', samplesList);
}

export function counter(registry: Registry, name: string, help: string, samples: Iterable<Sample>): void {
  const samplesList = [...samples];
  const c = new Counter({ name, help, labelNames: labelNamesOf(samplesList), registers: [registry] });
  precomputed(c, name, help, 'counter', samplesList);
}

/**
 * Hands the registry samples read at scrape time as they are. set()/inc() per sample would key each one by
 * its sorted, joined labels, the bulk of a /metrics/per-object scrape of 10,000 queues; a fresh registry per
 * scrape has no earlier values to merge with, so the keying buys nothing. prom-client still formats and
 * escapes every line (the same hook the histograms below use).
 */
export function precomputed(
  metric: Gauge | Counter,
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  samples: readonly Sample[],
): void {
  const values = samples.map(([labels, value]) => ({ labels, value }));
  const read = async () => ({ name, help, type, aggregator: 'sum', values });
  Object.assign(metric, { get: read, getForPromString: read });
}

export function labelNamesOf(samples: readonly Sample[]): string[] {
  return samples.length === 0 ? [] : Object.keys(samples[0]?.[0] ?? {});
}

/**
 * A histogram whose buckets the core already counted: prom-client formats it, but the values come from the
 * FixedHistogram (per-bucket counts, made cumulative here) rather than from observe() on the data path.
 */
export function histogram(
  registry: Registry,
  name: string,
  help: string,
  bounds: readonly number[],
  series: readonly [Labels, FixedHistogram][],
): void {
  const h = new Histogram({
    name,
    help,
    buckets: [...bounds],
    labelNames: labelNamesOf(series.map(([l]) => [l, 0])),
    registers: [registry],
  });
  // The registry formats a histogram from getForPromString(); this one reads the core's buckets.
  const formatted = async () => ({
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    values: series.flatMap(([labels, fixed]) => {
      let cumulative = 0;
      const buckets = [...bounds, '+Inf' as const].map((le, i) => {
        cumulative += fixed.counts[i] ?? 0;
        return { metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative };
      });
      return [
        ...buckets,
        { metricName: `${name}_sum`, labels, value: fixed.sum },
        { metricName: `${name}_count`, labels, value: fixed.count },
      ];
    }),
  });
  Object.assign(h, { getForPromString: formatted });
}

export function objectFamily<T>(
  registry: Registry,
  metrics: readonly ObjectMetric<T>[],
  objects: Iterable<T>,
  labels: (object: T) => Labels,
  scrape: Scrape,
  perObject: boolean,
): void {
  if (metrics.length === 0) return;
  const list = [...objects];
  const labelled = perObject ? list.map((o) => [o, labels(o)] as const) : [];
  for (const m of metrics) {
    const samples: Sample[] = perObject
      ? labelled.map(([o, l]) => [l, m.value(o, scrape)])
      : [[{}, list.reduce((n, o) => n + m.value(o, scrape), 0)]];
    if (m.type === 'gauge') gauge(registry, m.name, m.help, samples);
    else counter(registry, m.name, m.help, samples);
  }
}
