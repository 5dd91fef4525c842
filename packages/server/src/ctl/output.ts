/**
 * rabbitmqctl's output: an info line ("Listing queues for vhost / ..."), a header of column names, then one
 * tab-separated row per item, columns in the order asked for. `-q` drops the info line, `-s` the header too;
 * `--formatter json` prints the rows as RabbitMQ does, one JSON object per line inside [ ].
 */

export type Formatter = 'table' | 'json';

export interface OutputOptions {
  /** -q: no info line. */
  quiet: boolean;
  /** -s: no info line and no header. */
  silent: boolean;
  formatter: Formatter;
}

export class Output {
  readonly lines: string[] = [];

  constructor(readonly options: OutputOptions) {}

  /** An informational line, as rabbitmqctl prints before it acts; -q and -s drop it. */
  info(line: string): void {
    if (!this.options.quiet && !this.options.silent && this.options.formatter === 'table')
      this.lines.push(line);
  }

  /** A result line every mode keeps. */
  result(line: string): void {
    this.lines.push(line);
  }

  table(columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
    if (this.options.formatter === 'json') {
      const objects = rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c]]))));
      this.lines.push('[', objects.join(',\n'), ']');
      if (objects.length === 0) this.lines.splice(this.lines.length - 2, 1);
      return;
    }
    // rabbitmqctl prints no header for an empty list.
    if (rows.length === 0) return;
    if (!this.options.silent) this.lines.push(columns.join('\t'));
    for (const row of rows) this.lines.push(columns.map((c) => cell(row[c])).join('\t'));
  }
}

/**
 * One value as rabbitmqctl prints it: booleans as true/false, lists as [a, b], tables (AMQP arguments,
 * client properties) in Erlang's form [{"key",value}], nothing for a missing value.
 */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `[${value.map(cell).join(', ')}]`;
  if (typeof value === 'object') {
    const pairs = Object.entries(value as Record<string, unknown>).map(([k, v]) => `{"${k}",${term(v)}}`);
    return `[${pairs.join(',')}]`;
  }
  return String(value);
}

function term(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value !== null && typeof value === 'object') return cell(value);
  return cell(value);
}
