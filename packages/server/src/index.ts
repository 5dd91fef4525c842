export * from './config';
export { loadConfig, CONFIG_FILE_ENV, CONFIG_FILE_FLAG, type ConfigSources } from './load-config';
export { SETTINGS, type Setting } from './settings';
export { createLogger } from './logger';
export * from './listeners';
export { DataDirError, prepareDataDir } from './data-dir';
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
