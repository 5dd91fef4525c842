/**
 * What the benchmark scripts share: a fresh `warren start` child process on free ports, warren-perf's
 * msgs/s against it, and small statistics. Run from the repository root after `npm run build`.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** `--name value` from the command line as a number, or `fallback`. */
export function numericOption(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return Number(i >= 0 ? args[i + 1] : fallback);
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds `work` took. */
export async function timed(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const ALL_PORTS_FREE = ['amqp', 'stomp', 'ws', 'http', 'prometheus'].flatMap((p) => [`--${p}-port`, '0']);

/**
 * Starts `warren start` with every listener on a free port and a data directory of its own; resolves with the
 * port of each protocol (from its `listening` log lines), its pid, its data directory, and stop().
 * `nodeArgs` go to the broker's node before the script (e.g. `--cpu-prof`, `--trace-gc`); `onOutput` gets every
 * line of its stdout that is not a log entry (what such flags print).
 */
export async function startBroker(prefix = 'warren-bench-', { nodeArgs = [], onOutput = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'packages/server/bin/warren.js',
      'start',
      ...ALL_PORTS_FREE,
      '--data-dir',
      dir,
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ports = {};
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`warren exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return onOutput(line);
      const entry = JSON.parse(line);
      if (entry.msg === 'listening') ports[entry.protocol] = entry.port;
      if (entry.msg === 'warren started') resolve();
    });
  });
  return {
    ...ports,
    pid: child.pid,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** warren-perf's consumed msgs/s: 1 producer, 1 consumer, 1 KiB bodies, `seconds` after 2 s of warm-up. */
export async function perf(broker, seconds) {
  const flags = ['--port', String(broker.amqp), '-x', '1', '-y', '1', '-s', '1k', '-z', String(seconds)];
  const { stdout } = await run(
    process.execPath,
    ['packages/perf/bin/warren-perf.js', ...flags, '--warmup', '2', '--json'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (!result.ok) throw new Error(result.error);
  return result.cons_rate;
}
