import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The CLI tests run the built `warren` exactly as an operator would: `npm test` builds it first (tsc -b). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const BIN = join('packages', 'server', 'bin', 'warren.js');
const BUILT_CLI = join(REPO_ROOT, 'packages', 'server', 'dist', 'cli.js');

export function assertBuilt(): void {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run "npx tsc -b" first`);
}

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

export interface WarrenProcess {
  readonly child: ChildProcess;
  /** Every JSON line read from stdout so far. */
  readonly lines: LogLine[];
  /** All of stdout so far, as text: what --help and --version print. */
  stdout(): string;
  /** Resolves with the first line (already read or still to come) whose msg is `msg`. */
  waitForLine(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code once the process has exited (null if a signal killed it). */
  exited: Promise<number | null>;
  stderr(): string;
}

/**
 * Spawns `node packages/server/bin/warren.js ...args` from the repo root with no WARREN_* or RABBITMQ_*
 * variables from the machine running the tests, so only what a test passes counts. `wrapper` is a command that ends by exec'ing
 * its arguments (as `unshare -m sh -c '...; exec "$@"'` does), so the pid is still warren's.
 */
export function spawnWarren(
  args: readonly string[],
  env: Record<string, string> = {},
  wrapper: readonly string[] = [],
): WarrenProcess {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_') && !k.startsWith('RABBITMQ_')),
  );
  const [command, ...rest] = [...wrapper, process.execPath, BIN, ...args] as [string, ...string[]];
  const child = spawn(command, rest, {
    cwd: REPO_ROOT,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { msg: string; resolve: (line: LogLine) => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (text) => {
    stdout += `${text}\n`;
    if (!text.startsWith('{')) return;
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
  });
  // 'close', not 'exit': it comes once stdout and stderr are read to their end, so no output is missed.
  const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));

  return {
    child,
    lines,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLine(msg, timeoutMs = 10_000) {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolveLine, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${msg}" line within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        const settle = (line: LogLine): void => {
          clearTimeout(timer);
          resolveLine(line);
        };
        waiters.push({ msg, resolve: settle });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`warren exited before logging "${msg}"; stderr: ${stderr}`));
        });
      });
    },
  };
}

/** Resolves as `work` does, or rejects once `timeoutMs` have passed without it settling. */
export async function within<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 20 ms until it holds, or fails after `timeoutMs`. */
export async function pollUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Flags that put every listener on a free port. */
export const ALL_PORTS_FREE: readonly string[] = [
  '--amqp-port',
  '0',
  '--stomp-port',
  '0',
  '--ws-port',
  '0',
  '--http-port',
  '0',
  '--prometheus-port',
  '0',
];

/** The port a running warren logged for `protocol` ('amqp', 'stomp', 'ws'). */
export function portOf(proc: WarrenProcess, protocol: string): number {
  const line = proc.lines.find((l) => l.msg === 'listening' && l['protocol'] === protocol);
  if (typeof line?.['port'] !== 'number') throw new Error(`no listening line for ${protocol}`);
  return line['port'];
}

export interface WarrenSandbox {
  /** This test's own temporary directory. */
  readonly dir: string;
  /** Spawns warren (see spawnWarren); whatever is still running when the test ends is killed. */
  spawn(args: readonly string[], env?: Record<string, string>, wrapper?: readonly string[]): WarrenProcess;
}

/**
 * Registers the hooks every CLI test file needs: the build must exist; each test gets a fresh directory; a
 * failed assertion never leaves a broker running behind the test run.
 */
export function warrenSandbox(prefix: string): WarrenSandbox {
  let dir = '';
  const running: WarrenProcess[] = [];
  beforeAll(assertBuilt);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const proc of running.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    spawn(args, env, wrapper) {
      const proc = spawnWarren(args, env, wrapper);
      running.push(proc);
      return proc;
    },
  };
}
