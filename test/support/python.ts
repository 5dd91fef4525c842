import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Child programs for the real-client suites: Python programs run by Debian's /usr/bin/python3 (the only interpreter
 * that imports Debian's pika, py-amqp and kombu — never the pyenv python3 first on PATH) and the amqp-tools commands.
 *
 * Every program is registered until it exits; call killAllPrograms() in afterEach so that a failing test never
 * leaves a consumer running into the next one. Waiting is event-driven with a deadline: a test waits for an
 * output line or for the exit, never for a fixed time.
 */

export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Where a program finds the broker. */
export interface BrokerAddress {
  readonly host: string;
  readonly amqpPort: number;
}

export interface ProgramOptions {
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Directories put first on PYTHONPATH, e.g. the client-API shims. */
  readonly pythonPath?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const live = new Set<ChildProgram>();

/** A running (or finished) child process whose output is collected line by line. */
export class ChildProgram {
  /** Complete stdout lines, in order. */
  readonly stdout: string[] = [];
  /** Complete stderr lines, in order. */
  readonly stderr: string[] = [];
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();
  private exitStatus: ExitStatus | undefined;
  private readonly exited: Promise<ExitStatus>;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { cwd?: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    collectLines(this.child.stdout, this.stdout, () => this.notify());
    collectLines(this.child.stderr, this.stderr, () => this.notify());
    this.exited = new Promise<ExitStatus>((resolve) => {
      // 'close' (not 'exit') so that the last output lines are in before anyone hears of the exit.
      this.child.on('close', (code, signal) => {
        this.exitStatus = { code, signal };
        live.delete(this);
        this.notify();
        resolve(this.exitStatus);
      });
      this.child.on('error', (err) => {
        this.stderr.push(`spawn error: ${err.message}`);
        this.exitStatus = { code: null, signal: null };
        live.delete(this);
        this.notify();
        resolve(this.exitStatus);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  /** stdout and stderr, for failure messages. */
  describe(): string {
    const status = this.exitStatus === undefined ? 'running' : `exited ${JSON.stringify(this.exitStatus)}`;
    return `${this.name} (${status})\n--- stdout\n${this.stdout.join('\n')}\n--- stderr\n${this.stderr.join('\n')}`;
  }

  /** stdout lines matching the pattern, in order. */
  linesMatching(pattern: RegExp): string[] {
    return this.stdout.filter((line) => pattern.test(line));
  }

  /** The first stdout line (already printed or still to come) that matches; rejects at the deadline or exit. */
  async waitForLine(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const lines = await this.waitForLines(pattern, 1, timeoutMs);
    return lines[0] as string;
  }

  /** Waits until `count` stdout lines match; resolves with all matching lines. */
  waitForLines(pattern: RegExp, count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
    return this.waitUntil(
      () => {
        const matching = this.linesMatching(pattern);
        return matching.length >= count ? matching : undefined;
      },
      `${count} stdout line(s) matching ${String(pattern)}`,
      timeoutMs,
      this.stdout,
    );
  }

  /** The first stderr line matching the pattern (the shims trace what the broker answered there). */
  waitForStderrLine(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.waitUntil(
      () => this.stderr.find((line) => pattern.test(line)),
      `a stderr line matching ${String(pattern)}`,
      timeoutMs,
      this.stderr,
    );
  }

  /** Resolves with the exit status; rejects (and kills the program) at the deadline. */
  async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the exit and rejects unless the program exited with status 0. */
  async succeeds(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<this> {
    const status = await this.waitForExit(timeoutMs);
    if (status.code !== 0) throw new Error(`${this.name} failed\n${this.describe()}`);
    return this;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** Kills the program and resolves once it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    this.kill(signal);
    return this.exited;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private waitUntil<T>(
    check: () => T | undefined,
    what: string,
    timeoutMs: number,
    stream: readonly string[],
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Declared before the timer exists; only ever called after it does.
      const finish = (action: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        action();
      };
      const listener = (): void => {
        const found = check();
        if (found !== undefined) finish(() => resolve(found));
        else if (this.hasExited)
          finish(() => reject(new Error(`${this.name} exited before ${what}\n${this.describe()}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(`no ${what} within ${timeoutMs} ms (${stream.length} lines)\n${this.describe()}`),
            ),
          ),
        timeoutMs,
      );
      this.listeners.add(listener);
      listener();
    });
  }
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[], changed: () => void): void {
  if (stream === null) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    if (parts.length === 0) return;
    into.push(...parts.map((line) => line.replace(/\r$/, '')));
    changed();
  });
  stream.on('end', () => {
    if (pending !== '') into.push(pending);
    pending = '';
    changed();
  });
}

/** The environment a child program gets: the broker address, unbuffered Python output, and the shims. */
function childEnv(broker: BrokerAddress, options: ProgramOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AMQP_HOST: broker.host,
    AMQP_PORT: String(broker.amqpPort),
    // print() must reach the test at once: a line that sits in a pipe buffer looks like a lost message.
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...options.env,
  };
  // The pyenv interpreter's variables must not leak into Debian's python3.
  delete env['PYTHONHOME'];
  if (options.pythonPath !== undefined && options.pythonPath.length > 0)
    env['PYTHONPATH'] = options.pythonPath.join(':');
  else delete env['PYTHONPATH'];
  return env;
}

/** Starts `script` with /usr/bin/python3. */
export function startPython(
  script: string,
  broker: BrokerAddress,
  options: ProgramOptions = {},
): ChildProgram {
  const args = options.args ?? [];
  const name = [script.split('/').pop() ?? script, ...args].join(' ');
  return new ChildProgram(name, SYSTEM_PYTHON, [script, ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: childEnv(broker, options),
  });
}

/** Runs `script` to completion and rejects unless it exits 0. */
export function runPython(
  script: string,
  broker: BrokerAddress,
  options: ProgramOptions = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ChildProgram> {
  return startPython(script, broker, options).succeeds(timeoutMs);
}

export type AmqpTool =
  'amqp-publish' | 'amqp-consume' | 'amqp-get' | 'amqp-declare-queue' | 'amqp-delete-queue';

/** Starts one of the amqp-tools commands (librabbitmq-c) against the broker: --server and --port are added. */
export function startAmqpTool(tool: AmqpTool, broker: BrokerAddress, args: readonly string[]): ChildProgram {
  const fullArgs = [`--server=${broker.host}`, `--port=${broker.amqpPort}`, ...args];
  return new ChildProgram([tool, ...args].join(' '), `/usr/bin/${tool}`, fullArgs, {
    env: childEnv(broker, {}),
  });
}

/** Runs an amqp-tools command to completion and rejects unless it exits 0. */
export function runAmqpTool(
  tool: AmqpTool,
  broker: BrokerAddress,
  args: readonly string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ChildProgram> {
  return startAmqpTool(tool, broker, args).succeeds(timeoutMs);
}

/** Kills every program still running (SIGKILL) and waits until they are gone. For afterEach/afterAll. */
export async function killAllPrograms(): Promise<void> {
  await Promise.all([...live].map((program) => program.stop('SIGKILL')));
}
