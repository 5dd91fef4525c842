export * from './config';
export {
  loadConfig,
  readConfig,
  CONFIG_FILE_ENV,
  CONFIG_FILE_FLAG,
  FILE_VARIABLES,
  RABBITMQ_CONFIG_FILE_ENV,
  RABBITMQ_VARIABLES,
  type ConfigSources,
  type LoadedConfig,
} from './load-config';
export { CONF_KEYS, informationUnits, parseRabbitConf, type ConfKey, type IgnoredKey } from './rabbitmq-conf';
export { SETTINGS, type Setting } from './settings';
export { createLogger } from './logger';
export * from './listeners';
export { DataDirError, prepareDataDir } from './data-dir';
export { DefinitionsFileError, loadDefinitions } from './definitions-file';
export { startServer, type ServerHandle, type StartOptions, type StartStep } from './server';
export { VERSION } from './version';
export {
  refusalReason,
  secureContextOptions,
  TLS_VERSIONS,
  TlsEndpoint,
  tlsSettings,
  type TlsListenerName,
  type TlsSettings,
} from './tls';
