import pino from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogLevel, LogOptions } from './config';

/** The process logger, and the file it also writes to when log.file is set. */
export interface ProcessLogger {
  readonly logger: pino.Logger;
  /** Reopens log.file by its name, after logrotate moved the old one away; nothing without a file. */
  reopenFile(): void;
}

/**
 * The process logger: one JSON object per line on stdout, for a log shipper or `jq` to read, or lines a
 * person reads (pino-pretty) with `log.format` pretty, or auto on a terminal. log.file gets JSON lines too.
 *
 * Writes are synchronous, the pretty ones included (pino-pretty runs in this process, not in a worker
 * transport). pino's asynchronous default can reorder the last lines when the process exits while a write is
 * in flight (its exit hook writes the buffer past the pending write), and the final "warren stopped" line is an
 * operator's proof of a clean shutdown. Blocking is affordable because the broker logs events (connections,
 * errors), never messages, above debug.
 *
 * Throws when log.file cannot be opened, before anything is logged.
 */
export function createLogger(
  level: LogLevel,
  log: LogOptions = { format: 'json', file: null },
  stdout: pino.DestinationStream = consoleStream(log, process.stdout.isTTY === true),
): ProcessLogger {
  const options: pino.LoggerOptions = {
    name: 'warren',
    level,
    // No pid and hostname on every line: the "warren started" line carries the pid, and log shippers add the
    // host. Per-line bindings are for what varies, like a connection's id.
    base: null,
    // ISO times read at a glance in `docker logs`; epoch milliseconds (pino's default) do not.
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (log.file === null) return { logger: pino(options, stdout), reopenFile: () => {} };

  const file = pino.destination({ dest: log.file, sync: true, mkdir: true, append: true });
  // A full disk or a failed reopen must not crash the broker (an 'error' nobody hears would); stdout carries on.
  file.on('error', (err: Error) => process.stderr.write(`warren: log file ${log.file}: ${err.message}\n`));
  // multistream filters by each stream's level after the logger's own: both streams take all the logger passes.
  const all = level === 'silent' ? 'fatal' : level;
  const streams = pino.multistream([
    { level: all, stream: stdout },
    { level: all, stream: file },
  ]);
  return { logger: pino(options, streams), reopenFile: () => file.reopen() };
}

/** Where stdout lines go, in the format log.format asks for. */
function consoleStream(log: LogOptions, terminal: boolean): pino.DestinationStream {
  const pretty = log.format === 'pretty' || (log.format === 'auto' && terminal);
  if (!pretty) return pino.destination({ dest: 1, sync: true });
  return PinoPretty({
    destination: 1,
    sync: true,
    // Local wall-clock time to the millisecond: what a person at the terminal compares with their clock.
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    // One event, one line, fields after the message: a broker logs many events, and a terminal scrolls.
    singleLine: true,
  });
}
