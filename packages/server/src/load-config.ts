import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ConfigError, defaultConfig, type WarrenConfig } from './config';
import { applyRabbitConf, type IgnoredKey } from './rabbitmq-conf';
import { InvalidValue } from './setting-kinds';
import { SETTINGS } from './settings';

/** Names the config file through `--config FILE` or this variable. */
export const CONFIG_FILE_ENV = 'WARREN_CONFIG';
export const CONFIG_FILE_FLAG = 'config';
/** RabbitMQ's own variable for its config file: below WARREN_CONFIG, and ".conf" may be left off. */
export const RABBITMQ_CONFIG_FILE_ENV = 'RABBITMQ_CONFIG_FILE';

/**
 * The variables RabbitMQ (and its Docker image) users already set, by the Warren setting each stands for.
 * They rank below the WARREN_* variables and above the config file; empty counts as unset, as in RabbitMQ.
 */
export const RABBITMQ_VARIABLES: readonly { readonly env: string; readonly key: string }[] = [
  { env: 'RABBITMQ_NODE_PORT', key: 'amqp.port' },
  { env: 'RABBITMQ_DEFAULT_USER', key: 'defaultUser.name' },
  { env: 'RABBITMQ_DEFAULT_PASS', key: 'defaultUser.password' },
  { env: 'RABBITMQ_DEFAULT_VHOST', key: 'defaultUser.vhost' },
  { env: 'RABBITMQ_PRODUCT_NAME', key: 'product.name' },
  { env: 'RABBITMQ_PRODUCT_VERSION', key: 'product.version' },
];

/**
 * Credentials that may instead be read from a file named by NAME_FILE (Docker and Kubernetes secrets, as the
 * RabbitMQ image's RABBITMQ_DEFAULT_PASS_FILE): the value is the file's text less its trailing newline.
 */
export const FILE_VARIABLES: ReadonlySet<string> = new Set([
  'RABBITMQ_DEFAULT_USER',
  'RABBITMQ_DEFAULT_PASS',
  'WARREN_DEFAULT_USER',
  'WARREN_DEFAULT_PASSWORD',
]);

export interface ConfigSources {
  /** CLI flag values by flag name ('amqp-port', 'config'), as typed; undefined when not given. */
  flags?: Readonly<Record<string, string | undefined>>;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths (the config file, dataDir) resolve against it; defaults to process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  readonly config: WarrenConfig;
  /** rabbitmq.conf keys Warren knows but does not act on, for the CLI to warn about once it has a logger. */
  readonly ignoredKeys: readonly IgnoredKey[];
}

/** The configuration alone; see readConfig. */
export function loadConfig(sources: ConfigSources = {}): WarrenConfig {
  return readConfig(sources).config;
}

/**
 * Builds the configuration from, lowest precedence first: the defaults, the config file (JSON or
 * rabbitmq.conf), RabbitMQ's environment variables, Warren's, CLI flags. Throws a ConfigError naming the file,
 * variable or flag at the first bad value, so the operator knows which to fix.
 */
export function readConfig(sources: ConfigSources = {}): LoadedConfig {
  const { flags = {}, env = process.env, cwd = process.cwd() } = sources;
  const config = defaultConfig();

  let ignoredKeys: IgnoredKey[] = [];
  const file = configFile(flags, env, cwd);
  if (file !== undefined) ignoredKeys = applyFile(config, file);

  for (const { env: name, key } of RABBITMQ_VARIABLES) {
    const found = variable(env, name, cwd);
    const s = SETTINGS_BY_KEY.get(key);
    if (found !== undefined && found.text !== '' && s !== undefined)
      applyOrThrow(found.source, found.text, () => s.applyText(config, found.text));
  }
  for (const s of SETTINGS) {
    const found = variable(env, s.env, cwd);
    if (found !== undefined) applyOrThrow(found.source, found.text, () => s.applyText(config, found.text));
  }
  for (const s of SETTINGS) {
    const text = s.flag === undefined ? undefined : flags[s.flag];
    if (text !== undefined) applyOrThrow(`--${s.flag}`, text, () => s.applyText(config, text));
  }

  config.dataDir = resolve(cwd, config.dataDir);
  for (const files of [config.tls, config.wss]) {
    for (const name of ['certFile', 'keyFile', 'caFile'] as const) {
      const path = files[name];
      if (path !== null) files[name] = resolve(cwd, path);
    }
  }
  if (config.log.file !== null) config.log.file = resolve(cwd, config.log.file);
  for (const name of ['natsCaFile', 'natsCertFile', 'natsKeyFile'] as const) {
    const path = config.cluster[name];
    if (path !== null) config.cluster[name] = resolve(cwd, path);
  }
  if (config.loadDefinitions !== null) config.loadDefinitions = resolve(cwd, config.loadDefinitions);
  return { config, ignoredKeys };
}

/** The config file to read and what named it: --config, else WARREN_CONFIG, else RABBITMQ_CONFIG_FILE. */
function configFile(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): { path: string; named: string } | undefined {
  const named = (path: string, what: string): { path: string; named: string } => {
    if (path === '') throw new ConfigError(`${what}: expected a config file path, got ""`);
    return { path: resolve(cwd, path), named: what };
  };
  const fromFlag = flags[CONFIG_FILE_FLAG];
  if (fromFlag !== undefined) return named(fromFlag, `--${CONFIG_FILE_FLAG}`);
  const fromEnv = env[CONFIG_FILE_ENV];
  if (fromEnv !== undefined) return named(fromEnv, `environment variable ${CONFIG_FILE_ENV}`);
  const rabbit = env[RABBITMQ_CONFIG_FILE_ENV];
  if (rabbit === undefined || rabbit === '') return undefined;
  const file = named(rabbit, `environment variable ${RABBITMQ_CONFIG_FILE_ENV}`);
  // RabbitMQ before 3.7 took this path without its extension and added one; such settings still work.
  const withConf = `${file.path}.conf`;
  return !existsSync(file.path) && existsSync(withConf) ? { ...file, path: withConf } : file;
}

/**
 * A variable's value and its name for messages, or for the FILE_VARIABLES the text of the file NAME_FILE
 * names. Both set is refused, as the RabbitMQ image refuses it: one of them would be silently ignored.
 */
function variable(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  cwd: string,
): { text: string; source: string } | undefined {
  const value = env[name];
  const fileName = FILE_VARIABLES.has(name) ? env[`${name}_FILE`] : undefined;
  if (fileName === undefined)
    return value === undefined ? undefined : { text: value, source: `environment variable ${name}` };
  const source = `environment variable ${name}_FILE`;
  if (value !== undefined) throw new ConfigError(`${source}: set ${name} or ${name}_FILE, not both`);
  try {
    return { text: readFileSync(resolve(cwd, fileName), 'utf8').replace(/\r?\n$/, ''), source };
  } catch (err) {
    throw new ConfigError(`${source}: cannot read ${JSON.stringify(fileName)} (${errorMessage(err)})`);
  }
}

const SETTINGS_BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));
/** Keys that hold an object of settings ('amqp', 'limits', 'defaultUser'): the file may nest into them. */
const SECTIONS = new Set(
  SETTINGS.flatMap(({ key }) => {
    const parts = key.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/** Reads the config file as rabbitmq.conf or JSON; returns the rabbitmq.conf keys it ignored. */
function applyFile(config: WarrenConfig, file: { path: string; named: string }): IgnoredKey[] {
  const source = `config file ${file.path}`;
  if (extname(file.path) === '.config') {
    throw new ConfigError(
      `${source}: RabbitMQ's classic Erlang-term format is not supported; use rabbitmq.conf (key = value) or JSON`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${source} (from ${file.named}): cannot read it (${errorMessage(err)})`);
  }
  if (isRabbitConf(file.path, text)) return applyRabbitConf(config, text, source);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${errorMessage(err)})`);
  }
  applySection(config, json, '', source);
  return [];
}

/**
 * rabbitmq.conf by its extension, else by content: a JSON config is an object, so its first character that is
 * not blank is "{", while a rabbitmq.conf starts with a key or a "#" comment.
 */
function isRabbitConf(path: string, text: string): boolean {
  const extension = extname(path);
  if (extension === '.conf') return true;
  if (extension === '.json') return false;
  const first = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !line.startsWith('#'));
  return first !== undefined && !first.startsWith('{');
}

function applySection(config: WarrenConfig, json: unknown, prefix: string, source: string): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const where = prefix === '' ? 'the top level' : `"${prefix}"`;
    throw new ConfigError(`${source}: ${where} must be a JSON object, got ${quote(json)}`);
  }
  for (const [name, value] of Object.entries(json)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const s = SETTINGS_BY_KEY.get(key);
    // A misspelt key would otherwise be ignored, leaving the operator to wonder why it has no effect. A dotted
    // name is refused too: {"amqp.port": 1} is not a second way to write {"amqp": {"port": 1}}.
    if (name.includes('.') || (s === undefined && !SECTIONS.has(key))) {
      throw new ConfigError(`${source}: unknown key "${key}"`);
    }
    if (s !== undefined) applyOrThrow(`${source}: "${key}"`, value, () => s.applyJson(config, value));
    else applySection(config, value, key, source);
  }
}

function applyOrThrow(source: string, value: unknown, apply: () => void): void {
  try {
    apply();
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new ConfigError(`${source}: ${err.message}, got ${quote(value)}`);
  }
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// Duck-typed rather than `instanceof Error`: errors from another realm (a vm context, jest's sandbox) fail it.
function errorMessage(err: unknown): string {
  const hasMessage = typeof err === 'object' && err !== null && 'message' in err;
  return hasMessage && typeof err.message === 'string' ? err.message : String(err);
}
