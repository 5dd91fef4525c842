import { parseArgs } from 'node:util';
import { ConfigError } from '../config';
import { loadConfig } from '../load-config';
import { CtlError, EXIT, ManagementClient } from './client';
import { COMMANDS, type CommandContext } from './commands';
import { Output, type Formatter } from './output';

export { EXIT } from './client';

/** Where `warren ctl` finds the management API when neither --url nor this variable says. */
export const CTL_URL_ENV = 'WARREN_CTL_URL';
const DEFAULT_TIMEOUT_S = 60;

const OPTIONS = {
  url: { type: 'string' },
  vhost: { type: 'string', short: 'p', default: '/' },
  quiet: { type: 'boolean', short: 'q', default: false },
  silent: { type: 'boolean', short: 's', default: false },
  formatter: { type: 'string', default: 'table' },
  timeout: { type: 'string', short: 't' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * `warren ctl [options] <command> [args]`: rabbitmqctl's verbs and output for Warren, as a client of the
 * management HTTP API, so it works against a remote broker too (`--url http://user:pass@host:15672`). The
 * local broker's address comes from the same settings `warren start` reads (environment, config file).
 * Resolves with the exit status: 0, or rabbitmqctl's 64 usage, 65 data error, 69 unavailable, 70 software,
 * 75 timeout.
 */
export async function ctl(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [verb, ...args] = positionals;
  if (values.help || verb === undefined || verb === 'help') {
    process.stdout.write(help(args[0] ?? (verb === 'help' ? undefined : verb)));
    return verb === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[verb];
  if (command === undefined) return usageError(`unknown command "${verb}"`);
  const [min, max] = command.arity;
  if (args.length < min || args.length > max) {
    return usageError(
      `${verb} takes ${min === max ? min : `${min} to ${max}`} argument(s): ${verb} ${command.usage}`,
    );
  }
  if (values.formatter !== 'table' && values.formatter !== 'json') {
    return usageError(`--formatter: expected table or json, got "${values.formatter}"`);
  }
  const timeoutS = values.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0)
    return usageError(`--timeout: expected seconds, got "${values.timeout}"`);

  const out = new Output({
    quiet: values.quiet,
    silent: values.silent,
    formatter: values.formatter as Formatter,
  });
  try {
    const local = localBroker(env);
    const ctx: CommandContext = {
      api: new ManagementClient(values.url ?? env[CTL_URL_ENV] ?? local.url, timeoutS * 1000),
      out,
      args,
      vhost: values.vhost,
      amqp: local.amqp,
      timeoutMs: timeoutS * 1000,
    };
    await command.run(ctx);
    flush(out.lines);
    return EXIT.ok;
  } catch (err) {
    flush(out.lines);
    if (err instanceof CtlError) {
      process.stderr.write(`Error:\n${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) return usageError(err.message);
    process.stderr.write(`Error:\n${(err as Error).stack ?? String(err)}\n`);
    return EXIT.software;
  }
}

/** The local broker as its own settings place it: the management API as guest, and the AMQP port. */
function localBroker(env: NodeJS.ProcessEnv): { url: string; amqp: { host: string; port: number } } {
  const config = loadConfig({ env });
  const reach = (bind: string): string => (bind === '::' || bind === '0.0.0.0' ? '127.0.0.1' : bind);
  const httpHost = reach(config.http.host);
  return {
    url: `http://guest:guest@${httpHost.includes(':') ? `[${httpHost}]` : httpHost}:${config.http.port}`,
    amqp: { host: reach(config.amqp.host), port: config.amqp.port },
  };
}

function flush(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

function usageError(message: string): number {
  process.stderr.write(`warren ctl: ${message}\nRun "warren ctl help" for the commands.\n`);
  return EXIT.usage;
}

function help(verb: string | undefined): string {
  const command = verb === undefined ? undefined : COMMANDS[verb];
  if (command !== undefined)
    return `Usage: warren ctl [options] ${verb} ${command.usage}\n\n${command.describe}\n`;
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.describe}`);
  return [
    'Usage: warren ctl [options] <command> [arguments]',
    '',
    "rabbitmqctl's commands for Warren, through its management HTTP API.",
    '',
    'Options:',
    `  --url URL          the management API, e.g. http://admin:secret@host:15672 [env ${CTL_URL_ENV}]`,
    "                     (default: this machine's broker, as its settings place it, as guest)",
    '  -p, --vhost VHOST  the virtual host (default /)',
    '  -q, --quiet        no informational lines',
    '  -s, --silent       no informational lines and no table header',
    '  --formatter json   JSON instead of tab-separated columns',
    `  -t, --timeout S    seconds to wait (default ${DEFAULT_TIMEOUT_S})`,
    '',
    'Commands:',
    ...rows,
    '',
    'Examples:',
    '  warren ctl list_queues name messages_ready messages_unacknowledged',
    '  warren ctl add_user alice s3cret && warren ctl set_permissions alice ".*" ".*" ".*"',
    '  warren ctl --url http://admin:secret@broker:15672 export_definitions backup.json',
    '',
  ].join('\n');
}
