#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): the top functions by self time, and self time by where the
 * code lives (a @warren package, a dependency under node_modules, Node's internals, GC, idle).
 *
 *   node packages/perf/bench/cpuprofile-top.mjs FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: cpuprofile-top.mjs FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const i = process.argv.indexOf('--top');
const top = i >= 0 ? Number(process.argv[i + 1]) : 25;
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: each sample is one node, each timeDelta the time since the previous sample.
const self = new Map();
const { samples, timeDeltas } = profile;
for (let k = 0; k < samples.length; k++) {
  self.set(samples[k], (self.get(samples[k]) ?? 0) + (timeDeltas[k] ?? 0));
}
const total = [...self.values()].reduce((s, v) => s + v, 0);

function where(url) {
  if (url === '') return '(native / V8)';
  const pkg = /packages\/([a-z-]+)\/(?:dist|src)\//.exec(url);
  if (pkg !== null) return `@warren/${pkg[1]}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep !== null) return dep[1];
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const byFunction = new Map();
const byWhere = new Map();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  if (t === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^.*\/(packages|node_modules)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${short === '' ? '' : `${short}:${lineNumber + 1}`}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + t);
  const w = ['(idle)', '(garbage collector)', '(program)'].includes(functionName) ? functionName : where(url);
  byWhere.set(w, (byWhere.get(w) ?? 0) + t);
}

const busy = total - (byWhere.get('(idle)') ?? 0);
// Share of all samples, then share of the samples that were not idle.
const pct = (t, idle) =>
  `${((100 * t) / total).toFixed(1).padStart(5)}% ${idle ? '     -' : `${((100 * t) / busy).toFixed(1).padStart(5)}%`}`;
process.stdout.write(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle\n\nself time (% of all samples, % of non-idle) by where:\n`,
);
for (const [w, t] of [...byWhere].sort((a, b) => b[1] - a[1]).filter(([, t]) => t / total >= 0.001))
  process.stdout.write(`${pct(t, w === '(idle)')}  ${w}\n`);
process.stdout.write(`\ntop ${top} functions by self time:\n`);
for (const [n, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${pct(t, n.startsWith('(idle)'))}  ${n}\n`);
}
