import yargs from 'yargs/yargs';
import type { Logger } from 'pino';
import { ConfigError, type WarrenConfig } from './config';
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, loadConfig } from './load-config';
import { createLogger } from './logger';
import { DataDirError } from './data-dir';
import { startServer, type ServerHandle, type StartStep } from './server';
import { SETTINGS } from './settings';
import { VERSION } from './version';

/** 2 is the customary status for a usage error (grep, bash builtins): fix the command line or config. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

type Flags = Record<string, string | undefined>;

/** The `warren` command: `bin/warren.js` calls this with the arguments after the script name. */
export function main(argv: readonly string[]): void {
  const flags = parseCommandLine(argv);
  let config: WarrenConfig;
  try {
    config = loadConfig({ flags });
  } catch (err) {
    if (err instanceof ConfigError) exitWithUsageError(err.message);
    throw err;
  }
  start(config, createLogger(config.logLevel));
}

/**
 * Reads the flags of `warren start`. Values stay strings: loadConfig validates flags, variables and the file
 * alike, so an operator gets the same wording whichever source held the mistake. --help and --version print
 * and exit 0 inside yargs; a usage error exits 2.
 */
function parseCommandLine(argv: readonly string[]): Flags {
  const options = [
    ...SETTINGS.flatMap(({ flag, env, describe }) =>
      flag === undefined ? [] : [{ name: flag, describe: `${describe} [env ${env}]` }],
    ),
    { name: CONFIG_FILE_FLAG, describe: `JSON config file [env ${CONFIG_FILE_ENV}]` },
  ];
  const parser = yargs(argv)
    .scriptName('warren')
    .usage('Usage: $0 <command> [options]')
    .command('start', 'Start the broker and its protocol listeners')
    .demandCommand(1, 'Name a command, e.g. "warren start".')
    .strict()
    // The last of a repeated flag wins, as in most CLIs, instead of yargs' default of collecting an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .epilog('Precedence: flags > environment variables > config file > defaults.')
    .fail((message: string | null, err: Error | undefined) => {
      exitWithUsageError(message ?? err?.message ?? 'invalid command line');
    });
  for (const { name, describe } of options) {
    parser.option(name, { type: 'string', requiresArg: true, describe });
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
function start(config: WarrenConfig, logger: Logger): void {
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
  // Rereads the TLS certificates; before the start completes there is nothing to reload (it reads them itself).
  process.on('SIGHUP', () => server?.reloadTls());

  const starting = startServer(config, { logger, onStep: (s) => (step = s) });
  starting.then(
    (started) => (server = started),
    (err: unknown) => {
      // A data directory that cannot be used is the operator's to fix, not a bug: one line that says which
      // directory, which step and why, without a stack trace to read past.
      if (err instanceof DataDirError) {
        const { dataDir, step: failed, code } = err;
        logger.fatal({ dataDir, step: failed, code }, err.message);
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
