import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, defaultConfig, type WarrenConfig } from './config';
import { InvalidValue, SETTINGS } from './settings';

/** Names the config file through `--config FILE` or this variable. */
export const CONFIG_FILE_ENV = 'WARREN_CONFIG';
export const CONFIG_FILE_FLAG = 'config';

export interface ConfigSources {
  /** CLI flag values by flag name ('amqp-port', 'config'), as typed; undefined when not given. */
  flags?: Readonly<Record<string, string | undefined>>;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths (the config file, dataDir) resolve against it; defaults to process.cwd(). */
  cwd?: string;
}

/**
 * Builds the configuration from, lowest precedence first: the defaults, the JSON config file, environment
 * variables, CLI flags. Throws a ConfigError naming the file, variable or flag at the first bad value, so the
 * operator knows which of the four to fix.
 */
export function loadConfig(sources: ConfigSources = {}): WarrenConfig {
  const { flags = {}, env = process.env, cwd = process.cwd() } = sources;
  const config = defaultConfig();

  const fileFlag = flags[CONFIG_FILE_FLAG];
  const fileEnv = env[CONFIG_FILE_ENV];
  if (fileFlag !== undefined) applyFile(config, fileFlag, `--${CONFIG_FILE_FLAG}`, cwd);
  else if (fileEnv !== undefined) applyFile(config, fileEnv, `environment variable ${CONFIG_FILE_ENV}`, cwd);

  for (const s of SETTINGS) {
    const text = env[s.env];
    if (text !== undefined)
      applyOrThrow(`environment variable ${s.env}`, text, () => s.applyText(config, text));
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
  return config;
}

const SETTINGS_BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));
/** Keys that hold an object of settings ('amqp', 'limits', 'defaultUser'): the file may nest into them. */
const SECTIONS = new Set(
  SETTINGS.flatMap(({ key }) => {
    const parts = key.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

function applyFile(config: WarrenConfig, path: string, named: string, cwd: string): void {
  if (path === '') throw new ConfigError(`${named}: expected a config file path, got ""`);
  const file = resolve(cwd, path);
  const source = `config file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${source}: cannot read it (${errorMessage(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${errorMessage(err)})`);
  }
  applySection(config, json, '', source);
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
