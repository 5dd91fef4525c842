import pino from 'pino';
import type { LogLevel } from './config';

/**
 * The process logger: one JSON object per line on stdout, for a log shipper or `jq` to read; pretty printing
 * is the reader's business, not the broker's.
 *
 * Writes are synchronous. pino's asynchronous default can reorder the last lines when the process exits
 * while a write is in flight (its exit hook writes the buffer past the pending write), and the final
 * "warren stopped" line is an operator's proof of a clean shutdown. Blocking is affordable because the broker
 * logs events (connections, errors), never messages, above debug.
 */
export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
): pino.Logger {
  const options: pino.LoggerOptions = {
    name: 'warren',
    level,
    // No pid and hostname on every line: the "warren started" line carries the pid, and log shippers add the
    // host. Per-line bindings are for what varies, like a connection's id.
    base: null,
    // ISO times read at a glance in `docker logs`; epoch milliseconds (pino's default) do not.
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, destination);
}
