import {
  LOG_FORMATS,
  LOG_LEVELS,
  UNKNOWN_HOST,
  type LogFormat,
  type LogLevel,
  type UnknownHost,
} from './config';

/*
 * The kinds of value a setting takes (settings.ts): each read from text (an environment variable, a flag,
 * rabbitmq.conf) or from JSON (the config file), with the reason a bad value is refused.
 */

/** A value a setting cannot take. The message is the reason; the caller adds where the value came from. */
export class InvalidValue extends Error {}

function ensure(ok: boolean, reason: string): asserts ok {
  if (!ok) throw new InvalidValue(reason);
}

/**
 * How a setting's value is read: from text (an environment variable or a flag) or from a JSON value (the
 * config file, where a port must be a number, not "5672"). Both throw InvalidValue on bad input.
 */
export interface Kind<T> {
  fromText(text: string): T;
  fromJson(value: unknown): T;
}

const PORT = 'expected an integer port from 0 to 65535';
export const port: Kind<number> = {
  fromText(text) {
    // Number('') is 0 and Number('0x10') is 16: accept decimal digits only.
    ensure(/^\d{1,5}$/.test(text), PORT);
    return port.fromJson(Number(text));
  },
  fromJson(value) {
    ensure(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535, PORT);
    return value;
  },
};

const OPTIONAL_PORT = 'expected an integer port from 0 to 65535, or "off"';
/** A listener that is off by default: "off" (or "" in a variable, null in JSON) turns it off again. */
export const optionalPort: Kind<number | null> = {
  fromText(text) {
    if (text === 'off' || text === '') return null;
    ensure(/^\d{1,5}$/.test(text), OPTIONAL_PORT);
    return optionalPort.fromJson(Number(text));
  },
  fromJson(value) {
    if (value === null || value === 'off') return null;
    ensure(
      typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535,
      OPTIONAL_PORT,
    );
    return value;
  },
};

const COUNT = 'expected a non-negative integer';
export const count: Kind<number> = {
  fromText(text) {
    ensure(/^\d+$/.test(text), COUNT);
    return count.fromJson(Number(text));
  },
  fromJson(value) {
    ensure(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, COUNT);
    return value;
  },
};

const AMOUNT = 'expected a non-negative number';
/** Watermarks: a fraction (0.4) or a byte count. */
export const amount: Kind<number> = {
  fromText(text) {
    ensure(/^\d+(\.\d+)?$/.test(text), AMOUNT);
    return amount.fromJson(Number(text));
  },
  fromJson(value) {
    ensure(typeof value === 'number' && Number.isFinite(value) && value >= 0, AMOUNT);
    return value;
  },
};

const POSITIVE = 'expected a positive integer';
export const positiveCount: Kind<number> = {
  fromText(text) {
    ensure(/^\d+$/.test(text), POSITIVE);
    return positiveCount.fromJson(Number(text));
  },
  fromJson(value) {
    ensure(typeof value === 'number' && Number.isSafeInteger(value) && value > 0, POSITIVE);
    return value;
  },
};

/** A kind whose JSON form is the same string as its text form. */
export function stringKind<T extends string>(parse: (text: string) => T, reason: string): Kind<T> {
  return {
    fromText: parse,
    fromJson(value) {
      ensure(typeof value === 'string', reason);
      return parse(value);
    },
  };
}

const NON_EMPTY = 'expected a non-empty string';
export const nonEmptyString = stringKind((text) => {
  ensure(text !== '', NON_EMPTY);
  return text;
}, NON_EMPTY);

const URL_PATH = 'expected a path starting with "/"';
export const urlPath = stringKind((text) => {
  ensure(text.startsWith('/'), URL_PATH);
  return text;
}, URL_PATH);

/** One of a fixed list of words (a log level, a log format, ...). */
function oneOf<T extends string>(choices: readonly T[]): Kind<T> {
  const reason = `expected one of ${choices.join(', ')}`;
  return stringKind((text): T => {
    const choice = choices.find((c) => c === text);
    ensure(choice !== undefined, reason);
    return choice;
  }, reason);
}

export const logLevel = oneOf<LogLevel>(LOG_LEVELS);
export const unknownHost = oneOf<UnknownHost>(UNKNOWN_HOST);
export const logFormat = oneOf<LogFormat>(LOG_FORMATS);

const PATH = 'expected a file path, or null';
/** A file path, or null (JSON) to leave it unset; relative paths are resolved by loadConfig. */
export const optionalPath: Kind<string | null> = {
  fromText(text) {
    ensure(text !== '', PATH);
    return text;
  },
  fromJson(value) {
    if (value === null) return null;
    ensure(typeof value === 'string' && value !== '', PATH);
    return value;
  },
};

const BOOLEAN = 'expected true or false';
export const flag: Kind<boolean> = {
  fromText(text) {
    ensure(text === 'true' || text === 'false', BOOLEAN);
    return text === 'true';
  },
  fromJson(value) {
    ensure(typeof value === 'boolean', BOOLEAN);
    return value;
  },
};

const NAMES = 'expected an array of non-empty strings';
/** Text form is comma-separated, so one environment variable can carry the list; '' is the empty list. */
export const nameList: Kind<string[]> = {
  fromText(text) {
    return text === '' ? [] : text.split(',').map((name) => nonEmptyString.fromText(name.trim()));
  },
  fromJson(value) {
    ensure(Array.isArray(value), NAMES);
    return value.map((name: unknown) => {
      ensure(typeof name === 'string' && name !== '', NAMES);
      return name;
    });
  },
};

/** A nameList whose every name must be one of `allowed` (compared ignoring case, kept as the table spells it). */
export function choiceList(allowed: readonly string[]): Kind<string[]> {
  const reason = `expected a list of ${allowed.join(', ')}`;
  const pick = (name: string): string => {
    const found = allowed.find((a) => a.toLowerCase() === name.toLowerCase());
    ensure(found !== undefined, reason);
    return found;
  };
  return {
    fromText: (text) => nameList.fromText(text).map(pick),
    fromJson: (value) => nameList.fromJson(value).map(pick),
  };
}

const NATS_URLS = 'expected NATS server URLs (nats://host:port or tls://host:port), comma-separated';
/** The servers of a NATS cluster: nats:// or tls:// URLs, or bare host:port (nats:// is meant). */
export const natsUrlList: Kind<string[]> = {
  fromText: (text) => nameList.fromText(text).map(natsUrl),
  fromJson: (value) => nameList.fromJson(value).map(natsUrl),
};

function natsUrl(text: string): string {
  const url = /^[a-z]+:\/\//.test(text) ? text : `nats://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidValue(NATS_URLS);
  }
  ensure(['nats:', 'tls:'].includes(parsed.protocol) && parsed.hostname !== '', NATS_URLS);
  return url;
}
