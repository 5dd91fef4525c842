/**
 * The logging surface the core and the protocol packages use. pino's Logger satisfies it; the packages take
 * one as an option so that only @warren/server depends on pino. Log objects first, message second, as pino does.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** A logger that drops everything: the default when a caller passes none (unit tests, embedding). */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
};
