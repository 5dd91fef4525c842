import yargs from 'yargs/yargs';
import { ListenError } from '@warren/core';
import { ConfigError, defaultConfig, type WarrenConfig } from './config';
import { ctl } from './ctl';
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, readConfig, type LoadedConfig } from './load-config';
import { createLogger, type ProcessLogger } from './logger';
import { DataDirError } from './data-dir';
import { DefinitionsFileError } from './definitions-file';
import { startServer, type ServerHandle, type StartStep } from './server';
import { SETTINGS } from './settings';
import { VERSION } from './version';

/** 2 is the customary status for a usage error (grep, bash builtins): fix the command line or config. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

type Flags = Record<string, string | undefined>;

/** The `warren` command: `bin/warren.js` calls this with the arguments after the script name. */
export function main(argv: readonly string[]): void {
  if (argv[0] === 'ctl') {
    void ctl(argv.slice(1)).then((status) => process.exit(status));
    return;
  }
  const flags = parseCommandLine(argv);
  let loaded: LoadedConfig;
  try {
    loaded = readConfig({ flags });
  } catch (err) {
    if (err instanceof ConfigError) exitWithUsageError(err.message);
    throw err;
  }
  const { config, ignoredKeys } = loaded;
  let log: ProcessLogger;
  try {
    log = createLogger(config.logLevel, config.log);
  } catch (err) {
    process.stderr.write(`warren: cannot open log file ${config.log.file}: ${(err as Error).message}\n`);
    process.exit(EXIT_FAILURE);
  }
  for (const { key, line, reason } of ignoredKeys) {
    log.logger.warn({ key, line, reason }, `rabbitmq.conf key ${key} is not supported and has no effect`);
  }
  start(config, log);
}

/**
 * Reads the flags of `warren start`. Values stay strings: loadConfig validates flags, variables and the file
 * alike, so an operator gets the same wording whichever source held the mistake. --help and --version print
 * and exit 0 inside yargs; a usage error exits 2.
 */
function parseCommandLine(argv: readonly string[]): Flags {
  const defaults = defaultConfig();
  const options = [
    ...SETTINGS.flatMap(({ key, flag, env, describe }) =>
      flag === undefined
        ? []
        : [{ name: flag, describe: `${describe} [env ${env}]`, shown: defaultText(defaults, key) }],
    ),
    {
      name: CONFIG_FILE_FLAG,
      describe: `rabbitmq.conf or JSON config file [env ${CONFIG_FILE_ENV}]`,
      shown: 'none',
    },
  ];
  const parser = yargs(argv)
    .scriptName('warren')
    .usage('Usage: $0 <command> [options]')
    .command('start', 'Start the broker and its protocol listeners')
    .command('ctl ping', 'Check that the broker answers on its AMQP port (exit 0, or 69 if not)')
    .example('$0 start', 'AMQP on 5672, STOMP on 61613, Web-STOMP on 15674, data in ./data')
    .example('$0 start --amqp-port 5673 --data-dir /var/lib/warren', 'another port and data directory')
    .example('$0 start --config warren.json --log-format pretty', 'settings from a file, logs for a person')
    .example('$0 ctl ping', 'exit 0 if the broker answers (the Docker health check)')
    .demandCommand(1, 'Name a command, e.g. "warren start".')
    .strict()
    // The last of a repeated flag wins, as in most CLIs, instead of yargs' default of collecting an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .epilog('Precedence: flags > environment variables > config file > defaults.')
    .fail((message: string | null, err: Error | undefined) => {
      exitWithUsageError(message ?? err?.message ?? 'invalid command line');
    });
  // defaultDescription only shows the default: a flag left out stays unset, so the environment and the config
  // file still count (a yargs default would override them).
  for (const { name, describe, shown } of options) {
    parser.option(name, { type: 'string', requiresArg: true, describe, defaultDescription: shown });
  }
  const parsed = parser
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, parser.terminalWidth()))
    .parseSync();

  const flags: Flags = {};
  for (const { name } of options) {
    const value = parsed[name];
    if (typeof value === 'string') flags[name] = value;
  }
  return flags;
}

/**
 * Runs the server until SIGINT or SIGTERM, then closes it and exits 0. The close has a deadline
 * (shutdownTimeoutMs): past it the process logs what it was still waiting for and exits 1, so a stuck store
 * or client can delay a stop but never prevent one. A second signal while closing exits 1 at once, for the
 * operator who would rather lose in-flight work than wait for it.
 */
function start(config: WarrenConfig, { logger, reopenFile }: ProcessLogger): void {
  // Without this, a crash would reach stderr as plain text and miss the JSON log stream operators watch.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(EXIT_FAILURE);
  });

  // A broker runs until told to stop, not until its last socket closes: this timer holds the event loop open
  // even when no listener does (none is configured, or all are closing while the store flushes).
  setInterval(() => {}, 2 ** 31 - 1);

  let step: StartStep | undefined;
  let server: ServerHandle | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    const timeoutMs = config.shutdownTimeoutMs;
    logger.info({ signal, timeoutMs }, 'shutting down');
    setTimeout(() => {
      const waitingFor = server?.pending() ?? [`startup: ${step ?? 'loading'}`];
      logger.error({ timeoutMs, waitingFor }, 'shutdown did not finish in time; exiting');
      process.exit(EXIT_FAILURE);
    }, timeoutMs);
    starting
      .then((started) => started.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(EXIT_FAILURE);
        },
      );
  };
  // Installed before startServer creates or opens anything. A signal during startup waits for it to finish
  // (onSignal runs on a later tick, by when `starting` is set), then closes every listener that opened; the
  // deadline counts from the signal, so a startup that hangs is cut short too.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // logrotate moves log.file away, then signals (SIGUSR1, or SIGHUP as for most daemons): lines go to a new
  // file of the same name from here on.
  if (config.log.file !== null) {
    const reopen = (signal: NodeJS.Signals): void => {
      reopenFile();
      logger.info({ signal, file: config.log.file }, 'log file reopened');
    };
    process.on('SIGUSR1', reopen);
    process.on('SIGHUP', reopen);
  }
  // Rereads the TLS certificates; before the start completes there is nothing to reload (it reads them itself).
  process.on('SIGHUP', (signal) => server?.reloadTls(signal));

  const starting = startServer(config, { logger, onStep: (s) => (step = s), warmUp: true });
  starting.then(
    (started) => (server = started),
    (err: unknown) => {
      // A data directory that cannot be used is the operator's to fix, not a bug: one line that says which
      // directory, which step and why, without a stack trace to read past.
      if (err instanceof DataDirError) {
        const { dataDir, step: failed, code } = err;
        logger.fatal({ dataDir, step: failed, code }, err.message);
      } else if (err instanceof DefinitionsFileError) {
        // A bad definitions file is the operator's to fix as well: the file and the item that is wrong.
        logger.fatal({ file: err.file }, err.message);
        process.stderr.write(`warren: ${err.message}\n`);
      } else if (err instanceof ListenError) {
        // A port taken by another process, or below 1024 without the right: the one line to read is on stderr,
        // where a person starting warren by hand looks (stdout may be a pipe to a log shipper).
        const { protocol, host, port, code } = err;
        logger.fatal({ protocol, host, port, code }, err.message);
        process.stderr.write(`warren: ${err.message}\n`);
      } else {
        logger.fatal({ err }, 'warren failed to start');
      }
      process.exit(EXIT_FAILURE);
    },
  );
}

function exitWithUsageError(message: string): never {
  process.stderr.write(`warren: ${message}\nRun "warren --help" for usage.\n`);
  process.exit(EXIT_USAGE);
}

/** What --help shows as the default of the setting at `key` ("amqp.port"): the value defaultConfig() holds. */
function defaultText(defaults: WarrenConfig, key: string): string {
  let value: unknown = defaults;
  for (const part of key.split('.')) value = (value as Record<string, unknown>)[part];
  if (value === null) return 'off';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}
