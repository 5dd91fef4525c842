/*
 * RabbitMQ's sysctl-style rabbitmq.conf, read into Warren's settings.
 *
 * Grammar (cuttlefish's conf_parse.peg, which RabbitMQ uses; Warren takes the same files):
 *
 *   file      = *( line ( EOL | EOF ) )
 *   line      = setting | include | comment | *WS
 *   setting   = *WS key *WS "=" *WS ( quoted | plain ) *WS [ comment ]
 *   key       = word *( "." word )
 *   word      = 1*( "\." | ALPHA | DIGIT | "_" | "-" )   ; "\." is a dot inside a word, not a separator
 *   quoted    = "'" *<any char but "'"> "'"              ; how a value keeps a "#" or edge spaces
 *   plain     = 1*<any char, up to trailing WS or a comment>
 *   comment   = *WS "#" *<any char>                      ; also after a value: "a = b # note"
 *   include   = *WS "include" 1*WS path                  ; refused: Warren reads one file
 *   EOL       = [ CR ] LF
 *   WS        = SP | HTAB
 *
 * Keys are then looked up in CONF_KEYS, the table of every key Warren knows: a key it maps is converted to the
 * Warren setting(s) it stands for and applied through SETTINGS, so a value is checked once, by the setting;
 * a key it knows but cannot honour yet is reported back (the CLI logs one warning each); any other key stops
 * the start, as RabbitMQ refuses a key its schema lacks.
 */
import { totalmem } from 'node:os';
import { ConfigError, type WarrenConfig } from './config';
import { InvalidValue } from './setting-kinds';
import { SETTINGS } from './settings';

/** One `key = value` line. */
export interface ConfEntry {
  /** As written, dots escaped with "\." kept as they are. */
  readonly key: string;
  /** The key's words, "\." unescaped. */
  readonly path: readonly string[];
  readonly value: string;
  /** 1-based. */
  readonly line: number;
}

/** A key Warren knows but does not act on: logged as a warning at start. */
export interface IgnoredKey {
  readonly key: string;
  readonly line: number;
  readonly reason: string;
}

const WS = '[ \\t]';
const WORD = '(?:\\\\\\.|[A-Za-z0-9_-])+';
const SETTING = new RegExp(
  `^${WS}*(${WORD}(?:\\.${WORD})*)${WS}*=${WS}*(?:'([^']*)'|((?:(?!${WS}*#).)*?))${WS}*(?:#.*)?$`,
);
const BLANK_OR_COMMENT = new RegExp(`^${WS}*(?:#.*)?$`);
const INCLUDE = new RegExp(`^${WS}*include${WS}`);

/** Splits a rabbitmq.conf into its settings; throws a ConfigError naming the first line it cannot read. */
export function parseRabbitConf(text: string, source: string): ConfEntry[] {
  const entries: ConfEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const line = i + 1;
    if (BLANK_OR_COMMENT.test(lineText)) return;
    if (INCLUDE.test(lineText)) {
      throw new ConfigError(
        `${source}, line ${line}: "include" is not supported; put the settings in one file`,
      );
    }
    const match = SETTING.exec(lineText);
    const value = match?.[2] ?? match?.[3];
    if (match === null || value === undefined || (match[2] === undefined && value === '')) {
      throw new ConfigError(
        `${source}, line ${line}: expected "key = value", got ${JSON.stringify(lineText)}`,
      );
    }
    const key = match[1] as string;
    const path = key.split(/(?<!\\)\./).map((word) => word.replace(/\\\./g, '.'));
    entries.push({ key, path, value, line });
  });
  return entries;
}

// ---- value conversion ------------------------------------------------------------------------------

function ensure(ok: boolean, reason: string): asserts ok {
  if (!ok) throw new InvalidValue(reason);
}

function integer(text: string): number {
  ensure(/^\d+$/.test(text), 'expected a non-negative integer');
  return Number(text);
}

function fraction(text: string): number {
  ensure(/^(\d+(\.\d*)?|\.\d+)$/.test(text), 'expected a non-negative number such as 0.4');
  return Number(text);
}

function bool(text: string): boolean {
  ensure(text === 'true' || text === 'false', 'expected true or false');
  return text === 'true';
}

const POWERS: Readonly<Record<string, number>> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * A byte count with an optional information unit, as RabbitMQ 3.13 reads them (rabbitmq-server PR 10348,
 * https://www.rabbitmq.com/docs/memory): a bare letter or one followed by B is a power of ten (k, kB, MB, G,
 * TB: 1000^n); one followed by i or iB a power of two (Ki, KiB, Mi, MiB, GiB: 1024^n). Case is not significant.
 */
export function informationUnits(text: string): number {
  const match = /^(\d+)(?:([kmgtp])(i?)b?)?$/i.exec(text);
  ensure(match !== null, 'expected bytes, optionally with a unit: 500MB, 500MiB, 10GB, 10GiB, 2TB');
  const [, digits, letter, binary] = match;
  const power = letter === undefined ? 0 : (POWERS[letter.toLowerCase()] as number);
  const bytes = Number(digits) * (binary === '' || binary === undefined ? 1000 : 1024) ** power;
  ensure(Number.isSafeInteger(bytes), 'too large');
  return bytes;
}

/** `5672`, `127.0.0.1:5672`, `::1:5672` or `[::1]:5672`: the port after the last colon (cuttlefish's ip type). */
function listenAddress(text: string): { host?: string; port: number } {
  if (/^\d+$/.test(text)) return { port: Number(text) };
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = text.slice(colon + 1);
  ensure(
    colon > 0 && host !== '' && /^\d+$/.test(port),
    'expected a port, or host:port such as 127.0.0.1:5672',
  );
  return { host, port: Number(port) };
}

/** RabbitMQ's log levels (Erlang's logger levels) by pino's names. */
const LOG_LEVELS: Readonly<Record<string, string>> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  alert: 'fatal',
  emergency: 'fatal',
  none: 'silent',
};

function logLevel(text: string): string {
  const level = LOG_LEVELS[text];
  ensure(level !== undefined, `expected one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  return level;
}

// ---- the key table ---------------------------------------------------------------------------------

/**
 * The settings read so far, in JSON form, each with the line that set it last; applied through SETTINGS once
 * the whole file is read. Lists (auth_mechanisms.1, .2, ...) are gathered item by item.
 */
class Draft {
  readonly values = new Map<string, { value: unknown; entry: ConfEntry }>();
  readonly lists = new Map<string, { items: Map<string, string>; entry: ConfEntry }>();
  /** The listener each `listeners.*.<name>` prefix was given first, to refuse a second one. */
  readonly listenerNames = new Map<string, ConfEntry>();

  set(key: string, value: unknown, entry: ConfEntry): void {
    this.values.set(key, { value, entry });
  }

  /** `item` undefined: the list is given (so it replaces the default) but this line adds nothing to it. */
  addItem(key: string, name: string, item: string | undefined, entry: ConfEntry): void {
    const list = this.lists.get(key) ?? { items: new Map<string, string>(), entry };
    list.entry = entry;
    if (item === undefined) list.items.delete(name);
    else list.items.set(name, item);
    this.lists.set(key, list);
  }

  /** Every setting to apply; an explicit whole-list value (loopback_users = none) wins over its items. */
  settings(): { key: string; value: unknown; entry: ConfEntry }[] {
    const lists = [...this.lists]
      .filter(([key]) => !this.values.has(key))
      .map(([key, { items, entry }]) => ({ key, value: orderItems(items), entry }));
    return [...[...this.values].map(([key, { value, entry }]) => ({ key, value, entry })), ...lists];
  }
}

/** Numbered items (auth_mechanisms.1, .2, .10) in number order; named ones (tags) as they came. */
function orderItems(items: Map<string, string>): string[] {
  const names = [...items.keys()];
  if (names.every((name) => /^\d+$/.test(name))) names.sort((a, b) => Number(a) - Number(b));
  return names.map((name) => items.get(name) as string);
}

/** One key (or family of keys) RabbitMQ documents, and what it means for Warren. */
export interface ConfKey {
  /** As in RabbitMQ's docs; a `<name>` segment stands for any one word (`auth_mechanisms.<n>`). */
  readonly conf: string;
  /** The Warren settings (SETTINGS keys) it sets; empty when Warren knows the key but ignores it. */
  readonly settings: readonly string[];
  /** Why a key Warren knows has no effect (for some values or all); the start-up warning says it. */
  readonly ignored?: string;
}

interface ConfRule extends ConfKey {
  /**
   * Stores the value in the draft; `name` is the word a `<name>` segment matched. Returns a reason when
   * this value is accepted but has no effect (log.console = false). Throws InvalidValue on a bad value.
   */
  apply(draft: Draft, value: string, name: string, entry: ConfEntry): string | undefined;
}

function scalar(conf: string, setting: string, convert: (text: string) => unknown = (t) => t): ConfRule {
  return {
    conf,
    settings: [setting],
    apply(draft, value, _name, entry) {
      draft.set(setting, convert(value), entry);
      return undefined;
    },
  };
}

function listItem(conf: string, setting: string): ConfRule {
  return {
    conf,
    settings: [setting],
    apply(draft, value, name, entry) {
      draft.addItem(setting, name, value, entry);
      return undefined;
    },
  };
}

/** `<name> = true` puts the name in the list, `= false` leaves it out (default_user_tags, loopback_users). */
function namedFlag(conf: string, setting: string): ConfRule {
  return {
    conf,
    settings: [setting],
    apply(draft, value, name, entry) {
      draft.addItem(setting, name, bool(value) ? name : undefined, entry);
      return undefined;
    },
  };
}

function ignored(conf: string, reason: string): ConfRule {
  return { conf, settings: [], ignored: reason, apply: () => reason };
}

/**
 * `listeners.tcp.<name> = [host:]port`. RabbitMQ may open several listeners per protocol; Warren opens one,
 * so a second name is refused rather than silently dropped.
 */
function listener(conf: string, section: 'amqp' | 'amqps' | 'stomp' | 'stomps'): ConfRule {
  return {
    conf,
    settings: [`${section}.port`, `${section}.host`],
    apply(draft, value, name, entry) {
      const prefix = entry.path.slice(0, -1).join('.');
      const first = draft.listenerNames.get(prefix);
      if (first !== undefined && first.path.at(-1) !== name) {
        throw new InvalidValue(
          `Warren opens one listener per protocol and line ${first.line} already set ${first.key}`,
        );
      }
      draft.listenerNames.set(prefix, entry);
      const { host, port } = listenAddress(value);
      draft.set(`${section}.port`, port, entry);
      if (host !== undefined) draft.set(`${section}.host`, host, entry);
      return undefined;
    },
  };
}

const ALWAYS_STDOUT = 'Warren always logs to standard output; log.console = false has no effect';

const RULES: readonly ConfRule[] = [
  listener('listeners.tcp.<name>', 'amqp'),
  listener('listeners.ssl.<name>', 'amqps'),
  listener('stomp.listeners.tcp.<name>', 'stomp'),
  listener('stomp.listeners.ssl.<name>', 'stomps'),
  scalar('ssl_options.cacertfile', 'tls.caFile'),
  scalar('ssl_options.certfile', 'tls.certFile'),
  scalar('ssl_options.keyfile', 'tls.keyFile'),
  scalar('ssl_options.password', 'tls.password'),
  scalar('ssl_options.verify', 'tls.verifyPeer', (text) => {
    ensure(text === 'verify_peer' || text === 'verify_none', 'expected verify_peer or verify_none');
    return text === 'verify_peer';
  }),
  scalar('ssl_options.fail_if_no_peer_cert', 'tls.failIfNoPeerCert', bool),
  listItem('ssl_options.versions.<n>', 'tls.versions'),
  listItem('ssl_options.ciphers.<n>', 'tls.ciphers'),
  listItem('auth_mechanisms.<n>', 'authMechanisms'),
  scalar('stomp.default_user', 'stomp.defaultUser.name'),
  scalar('stomp.default_pass', 'stomp.defaultUser.password'),
  scalar('stomp.default_vhost', 'stomp.defaultVhost'),
  scalar('stomp.implicit_connect', 'stomp.implicitConnect', bool),
  scalar('stomp.ssl_cert_login', 'stomp.sslCertLogin', bool),
  scalar('stomp.max_frame_size', 'limits.stompMaxFrameSize', integer),
  // RabbitMQ caps every frame before login at this (default 64 KiB); before login there is only CONNECT.
  scalar('stomp.max_frame_size_unauthenticated', 'limits.stompMaxPreConnectBytes', integer),
  scalar('web_stomp.tcp.port', 'ws.port', integer),
  scalar('web_stomp.tcp.ip', 'ws.host'),
  scalar('web_stomp.ws_path', 'ws.path'),
  scalar('web_stomp.ssl.port', 'wss.port', integer),
  scalar('web_stomp.ssl.ip', 'wss.host'),
  scalar('web_stomp.ssl.certfile', 'wss.certFile'),
  scalar('web_stomp.ssl.keyfile', 'wss.keyFile'),
  scalar('web_stomp.ssl.cacertfile', 'wss.caFile'),
  scalar('web_stomp.ssl.password', 'wss.password'),
  scalar('product.name', 'product.name'),
  scalar('product.version', 'product.version'),
  scalar('default_user', 'defaultUser.name'),
  scalar('default_pass', 'defaultUser.password'),
  scalar('default_vhost', 'defaultUser.vhost'),
  namedFlag('default_user_tags.<tag>', 'defaultUser.tags'),
  scalar('default_permissions.configure', 'defaultUser.permissions.configure'),
  scalar('default_permissions.read', 'defaultUser.permissions.read'),
  scalar('default_permissions.write', 'defaultUser.permissions.write'),
  scalar('loopback_users', 'loopbackUsers', (text) => {
    ensure(text === 'none', 'expected none, or loopback_users.<user> = true');
    return [];
  }),
  namedFlag('loopback_users.<user>', 'loopbackUsers'),
  scalar('vm_memory_high_watermark.relative', 'limits.vmMemoryHighWatermark', (text) => {
    const value = fraction(text);
    // Warren reads a watermark above 1 as bytes: a relative one must stay a fraction.
    ensure(value <= 1, 'expected a fraction of memory from 0 to 1');
    return value;
  }),
  scalar('vm_memory_high_watermark.absolute', 'limits.vmMemoryHighWatermark', (text) => {
    const bytes = informationUnits(text);
    ensure(bytes > 1, 'expected more than 1 byte (Warren reads 0 to 1 as a fraction)');
    return bytes;
  }),
  scalar('disk_free_limit.absolute', 'diskFreeLimit', informationUnits),
  // RabbitMQ's relative disk limit is a multiple of the machine's memory, fixed at start as here.
  scalar('disk_free_limit.relative', 'diskFreeLimit', (text) => Math.round(fraction(text) * totalmem())),
  scalar('heartbeat', 'limits.heartbeatSeconds', integer),
  scalar('frame_max', 'limits.frameMax', integer),
  scalar('channel_max', 'limits.channelMax', integer),
  scalar('max_message_size', 'limits.maxMessageSize', integer),
  scalar('consumer_timeout', 'limits.consumerTimeoutMs', integer),
  scalar('log.console.level', 'logLevel', logLevel),
  scalar('log.file.level', 'logLevel', logLevel),
  scalar('log.file', 'log.file', (text) => (text === 'false' ? null : text)),
  scalar('load_definitions', 'loadDefinitions'),
  {
    conf: 'log.console',
    settings: [],
    ignored: ALWAYS_STDOUT,
    apply: (_draft, value) => (bool(value) ? undefined : ALWAYS_STDOUT),
  },
  scalar('management.tcp.port', 'http.port', integer),
  scalar('management.tcp.ip', 'http.host'),
  scalar('management.ssl.port', 'https.port', integer),
  scalar('management.ssl.ip', 'https.host'),
  ignored('management.ssl.<option>', 'the management API over HTTPS uses the ssl_options.* certificates'),
  scalar('prometheus.tcp.port', 'prometheus.port', integer),
  scalar('prometheus.tcp.ip', 'prometheus.host'),
];

/** Every rabbitmq.conf key Warren knows. docs/configuration.md lists them; a test keeps the two in step. */
export const CONF_KEYS: readonly ConfKey[] = RULES;

function matches(rule: ConfRule, path: readonly string[]): string | undefined {
  const pattern = rule.conf.split('.');
  if (pattern.length !== path.length) return undefined;
  let name = '';
  for (const [i, word] of pattern.entries()) {
    if (word.startsWith('<')) name = path[i] as string;
    else if (word !== path[i]) return undefined;
  }
  return name;
}

const SETTINGS_BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

/**
 * Reads a rabbitmq.conf into `config`. Returns the keys Warren knows but ignores; throws a ConfigError naming
 * the line of an unknown key or a bad value.
 */
export function applyRabbitConf(config: WarrenConfig, text: string, source: string): IgnoredKey[] {
  const draft = new Draft();
  const ignoredKeys: IgnoredKey[] = [];
  for (const entry of parseRabbitConf(text, source)) {
    const where = `${source}, line ${entry.line}: "${entry.key}"`;
    const found = RULES.map((rule) => ({ rule, name: matches(rule, entry.path) })).find(
      ({ name }) => name !== undefined,
    );
    if (found === undefined) throw new ConfigError(`${where}: unknown key`);
    const reason = withValue(where, entry.value, () =>
      found.rule.apply(draft, entry.value, found.name as string, entry),
    );
    if (reason !== undefined) ignoredKeys.push({ key: entry.key, line: entry.line, reason });
  }
  for (const { key, value, entry } of draft.settings()) {
    const setting = SETTINGS_BY_KEY.get(key);
    // CONF_KEYS names only real settings (a unit test checks); this guards a future typo loudly.
    if (setting === undefined) throw new Error(`rabbitmq.conf key ${entry.key} maps to no setting ${key}`);
    withValue(`${source}, line ${entry.line}: "${entry.key}"`, entry.value, () =>
      setting.applyJson(config, value),
    );
  }
  return ignoredKeys;
}

function withValue<T>(where: string, value: string, apply: () => T): T {
  try {
    return apply();
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new ConfigError(`${where}: ${err.message}, got ${JSON.stringify(value)}`);
  }
}
