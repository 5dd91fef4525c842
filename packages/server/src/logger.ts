import pino from 'pino';
import type { LogLevel } from './config';

/**
 * The process logger: one JSON object per line on stdout, for a log shipper or `jq` to read; pretty printing
 * is the reader's business, not the broker's. pino writes asynchronously and flushes on process exit, so a
 * slow log pipe never stalls the event loop that moves messages.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    name: 'warren',
    level,
    // No pid and hostname on every line: the "warren started" line carries the pid, and log shippers add the
    // host. Per-line bindings are for what varies, like a connection's id.
    base: null,
    // ISO times read at a glance in `docker logs`; epoch milliseconds (pino's default) do not.
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
