/**
 * Everything warren-perf prints. Results go to stdout (a table, or one JSON line per run with --json);
 * progress and errors go to stderr, so stdout stays machine-readable.
 */
import type { ProgressSample, RunResult } from './result';

export interface Output {
  result(r: RunResult): void;
  progress(p: ProgressSample): void;
  error(message: string): void;
  usage(text: string): void;
}

function fmt(v: string | number | boolean | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return String(v);
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A human-readable summary of one run. */
export function formatTable(r: RunResult): string {
  const scenario = [
    `${r['producers']} producer(s) -> ${r['consumers']} consumer(s)`,
    `${r['size']} B`,
    r['persistent'] === true ? 'persistent' : 'transient',
    r['fanout'] ? `fanout ${r['fanout']}` : r['topic_bindings'] ? `topic ${r['topic_bindings']}` : 'direct',
    `ack ${r['ack']}${r['ack'] === 'manual' ? ` every ${r['ack_every']}` : ''}`,
    `prefetch ${r['prefetch']}`,
    r['confirm_window'] ? `confirms ${r['confirm_window']}` : 'no confirms',
    r['rate_target'] ? `rate ${r['rate_target']}/s` : 'unlimited',
  ].join(', ');
  const lines = [
    `warren-perf ${r['label'] ? `[${r['label']}] ` : ''}${r['host']}: ${scenario}`,
    `  status      ${r['ok'] ? 'ok' : `FAILED: ${r['error']}`}, ${r['drained'] ? `drained in ${fmt(r['drain_s'], 3)} s` : `NOT drained, ${r['missing']} missing`}${r['stale'] ? `, ${r['stale']} stale` : ''}`,
    `  published   ${fmt(r['pub_rate']).padStart(12)} msgs/s   (${fmt(r['published'])} in total, window ${fmt(r['pub_window_s'], 3)} s)`,
    `  consumed    ${fmt(r['cons_rate']).padStart(12)} msgs/s   (${fmt(r['consumed'])} of ${fmt(r['expected'])}, window ${fmt(r['cons_window_s'], 3)} s)`,
    '',
    `  latency (us)      min        p50        p75        p95        p99        max     samples`,
    `  end-to-end ${['min', 'p50', 'p75', 'p95', 'p99', 'max'].map((k) => fmt(r[`lat_us_${k}`], 1).padStart(10)).join(' ')} ${fmt(r['lat_samples']).padStart(11)}`,
  ];
  if (r['confirm_window']) {
    lines.push(
      `  confirm    ${'-'.padStart(10)} ${fmt(r['confirm_us_p50'], 1).padStart(10)} ${'-'.padStart(10)} ${'-'.padStart(10)} ${fmt(r['confirm_us_p99'], 1).padStart(10)} ${fmt(r['confirm_us_max'], 1).padStart(10)} ${fmt(r['confirmed']).padStart(11)}`,
    );
  }
  lines.push(
    '',
    `  cpu         client ${fmt(r['client_cores'], 2)} cores` +
      (r['broker_cores'] !== null
        ? `, broker ${fmt(r['broker_cores'], 2)} cores (${fmt(r['broker_cpu_us_per_msg'], 2)} us/msg)`
        : '') +
      (r['other_cores'] !== null ? `, others ${fmt(r['other_cores'], 2)} cores` : '') +
      `, wall ${fmt(r['wall_s'], 2)} s`,
  );
  return lines.join('\n') + '\n';
}

export function stdOutput(json: boolean): Output {
  return {
    result: (r) => process.stdout.write(json ? `${JSON.stringify(r)}\n` : formatTable(r)),
    progress: (p) =>
      process.stderr.write(
        `t=${p.t_s.toFixed(1)}s pub ${Math.round(p.pub_rate)}/s cons ${Math.round(p.cons_rate)}/s backlog ${p.backlog}\n`,
      ),
    error: (message) => process.stderr.write(`warren-perf: ${message}\n`),
    usage: (text) => process.stdout.write(text),
  };
}
