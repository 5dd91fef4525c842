import type { Logger } from '@warren/core';

/** One log call as an operator reads it: level, message, and the fields of the line with its bindings. */
export interface LogLine {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly msg: string | undefined;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A Logger that keeps every line, child bindings included (`listener: 'amqps'` comes from a child), so a test
 * asserts on the line pino would have written. `waitFor` polls with a deadline for a line still to come.
 */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly bindings: Readonly<Record<string, unknown>> = {},
  ) {}

  error(obj: object, msg?: string): void {
    this.record('error', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.record('warn', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.record('info', obj, msg);
  }
  debug(obj: object, msg?: string): void {
    this.record('debug', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }

  /** The lines with this message whose fields include `fields`. */
  find(msg: string, fields: Record<string, unknown> = {}): LogLine[] {
    return this.lines.filter(
      (l) => l.msg === msg && Object.entries(fields).every(([k, v]) => matches(l.fields[k], v)),
    );
  }

  /** The first line (logged or still to come) that `find` would return; rejects after `timeoutMs`. */
  async waitFor(msg: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [line] = this.find(msg, fields);
      if (line !== undefined) return line;
      if (Date.now() > deadline) {
        const seen = this.lines.map((l) => `${l.level} ${l.msg ?? ''} ${JSON.stringify(l.fields)}`);
        throw new Error(`no log line '${msg}' with ${JSON.stringify(fields)}; got:\n${seen.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private record(level: LogLine['level'], obj: object, msg: string | undefined): void {
    this.lines.push({ level, msg, fields: { ...this.bindings, ...obj } });
  }
}

/** A RegExp matches a string field; anything else must be equal. */
function matches(actual: unknown, expected: unknown): boolean {
  return expected instanceof RegExp
    ? typeof actual === 'string' && expected.test(actual)
    : actual === expected;
}
