import { DEFAULT_LIMITS, type Limits } from '@warren/core';
import { LOG_LEVELS, type LogLevel, type WarrenConfig } from './config';

/**
 * How a setting's value is read: from text (an environment variable or a flag) or from a JSON value (the
 * config file, where a port must be a number, not "5672"). Both throw a short reason on bad input.
 */
interface Kind<T> {
  fromText(text: string): T;
  fromJson(value: unknown): T;
}

const PORT_REASON = 'expected an integer port from 0 to 65535';

const port: Kind<number> = {
  fromText(text) {
    // Number('') is 0 and Number('0x10') is 16: accept decimal digits only.
    if (!/^\d{1,5}$/.test(text)) throw new Error(PORT_REASON);
    return port.fromJson(Number(text));
  },
  fromJson(value) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error(PORT_REASON);
    }
    return value;
  },
};

const nonEmptyString: Kind<string> = {
  fromText(text) {
    if (text === '') throw new Error('expected a non-empty string');
    return text;
  },
  fromJson(value) {
    if (typeof value !== 'string') throw new Error('expected a non-empty string');
    return nonEmptyString.fromText(value);
  },
};

const urlPath: Kind<string> = {
  fromText(text) {
    if (!text.startsWith('/')) throw new Error('expected a path starting with "/"');
    return text;
  },
  fromJson(value) {
    if (typeof value !== 'string') throw new Error('expected a path starting with "/"');
    return urlPath.fromText(value);
  },
};

const logLevel: Kind<LogLevel> = {
  fromText(text) {
    const level = LOG_LEVELS.find((l) => l === text);
    if (level === undefined) throw new Error(`expected one of ${LOG_LEVELS.join(', ')}`);
    return level;
  },
  fromJson(value) {
    return logLevel.fromText(typeof value === 'string' ? value : '');
  },
};

/** Text form is comma-separated, so one environment variable can carry the list; '' is the empty list. */
const nameList: Kind<string[]> = {
  fromText(text) {
    return text === '' ? [] : text.split(',').map((name) => nonEmptyString.fromText(name.trim()));
  },
  fromJson(value) {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
      throw new Error('expected an array of non-empty strings');
    }
    return [...value];
  },
};

const count: Kind<number> = {
  fromText(text) {
    if (!/^\d+$/.test(text)) throw new Error('expected a non-negative integer');
    return count.fromJson(Number(text));
  },
  fromJson(value) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new Error('expected a non-negative integer');
    }
    return value;
  },
};

/**
 * One configurable value: its dotted key in the config file, its environment variable and, for the few an
 * operator changes per run, its CLI flag. The CLI builds its options from this table, so a new setting is
 * one row here and nothing anywhere else.
 */
export interface Setting {
  readonly key: string;
  readonly env: string;
  readonly flag?: string;
  readonly describe: string;
  /** Parses `text` and stores it in `config`; throws a short reason on bad input. */
  applyText(config: WarrenConfig, text: string): void;
  applyJson(config: WarrenConfig, value: unknown): void;
}

interface SettingSpec<T> {
  key: string;
  env: string;
  flag?: string;
  describe: string;
  kind: Kind<T>;
  set(config: WarrenConfig, value: T): void;
}

// Closes over T so settings of different value types fit in one array without casts.
function setting<T>(spec: SettingSpec<T>): Setting {
  const { kind, set, ...names } = spec;
  return {
    ...names,
    applyText: (config, text) => set(config, kind.fromText(text)),
    applyJson: (config, value) => set(config, kind.fromJson(value)),
  };
}

function limitSetting(name: keyof Limits): Setting {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return setting({
    key: `limits.${name}`,
    env: `WARREN_LIMITS_${snake}`,
    describe: `Core limit ${name}`,
    kind: count,
    set: (c, v) => {
      c.limits[name] = v;
    },
  });
}

const LISTENER_NAMES = {
  amqp: 'AMQP 0-9-1',
  stomp: 'STOMP',
  ws: 'STOMP over WebSocket',
  http: 'HTTP management',
} as const;

export const SETTINGS: readonly Setting[] = [
  ...(Object.keys(LISTENER_NAMES) as (keyof typeof LISTENER_NAMES)[]).flatMap((listener) => [
    setting({
      key: `${listener}.port`,
      env: `WARREN_${listener.toUpperCase()}_PORT`,
      flag: `${listener}-port`,
      describe: `${LISTENER_NAMES[listener]} port (0 picks a free one)`,
      kind: port,
      set: (c, v) => {
        c[listener].port = v;
      },
    }),
    setting({
      key: `${listener}.host`,
      env: `WARREN_${listener.toUpperCase()}_HOST`,
      describe: `${LISTENER_NAMES[listener]} bind address`,
      kind: nonEmptyString,
      set: (c, v) => {
        c[listener].host = v;
      },
    }),
  ]),
  setting({
    key: 'ws.path',
    env: 'WARREN_WS_PATH',
    describe: 'STOMP over WebSocket upgrade path',
    kind: urlPath,
    set: (c, v) => {
      c.ws.path = v;
    },
  }),
  setting({
    key: 'dataDir',
    env: 'WARREN_DATA_DIR',
    flag: 'data-dir',
    describe: 'Directory for durable state',
    kind: nonEmptyString,
    set: (c, v) => {
      c.dataDir = v;
    },
  }),
  setting({
    key: 'logLevel',
    env: 'WARREN_LOG_LEVEL',
    flag: 'log-level',
    describe: `Log level (${LOG_LEVELS.join(', ')})`,
    kind: logLevel,
    set: (c, v) => {
      c.logLevel = v;
    },
  }),
  // No flags for credentials: command lines are visible to every user through ps.
  setting({
    key: 'defaultUser.name',
    env: 'WARREN_DEFAULT_USER',
    describe: 'User created on first start',
    kind: nonEmptyString,
    set: (c, v) => {
      c.defaultUser.name = v;
    },
  }),
  setting({
    key: 'defaultUser.password',
    env: 'WARREN_DEFAULT_PASSWORD',
    describe: 'Password of the user created on first start',
    kind: nonEmptyString,
    set: (c, v) => {
      c.defaultUser.password = v;
    },
  }),
  setting({
    key: 'loopbackUsers',
    env: 'WARREN_LOOPBACK_USERS',
    describe: 'Users allowed to connect only from localhost (comma-separated)',
    kind: nameList,
    set: (c, v) => {
      c.loopbackUsers = v;
    },
  }),
  ...(Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]).map(limitSetting),
];
