import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { RequestListener, ServerOptions as HttpServerOptions } from 'node:http';
import type { ServerOpts, Socket } from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContextOptions,
  type SecureVersion,
  type Server as TlsServer,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls';
import type { Logger } from '@warren/core';
import { ConfigError, type TlsFiles, type WarrenConfig } from './config';

/**
 * TLS for every listener: from the tls.* (and wss.*) settings to node:tls options, the client-certificate
 * policy each completed handshake passes, the log line of every refusal, and certificate reloads that keep
 * open connections. The protocol packages only take a factory for their server (SecureServerFactory,
 * SecureHttpServerFactory); this module is the one place that knows about certificates, so an HTTPS listener
 * (management, metrics) can reuse it as WSS does.
 */

/** The listeners that speak TLS, by the name they log under. */
export type TlsListenerName = 'amqps' | 'stomps' | 'wss' | 'https';

/** RabbitMQ's names for ssl_options.versions, and Node's for the same protocol. */
export const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = {
  tlsv1: 'TLSv1',
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
};
const VERSION_ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** One TLS listener's settings, after wss.* has fallen back to tls.* field by field. */
export interface TlsSettings {
  readonly listener: TlsListenerName;
  readonly files: TlsFiles;
  /** The settings the files came from, for messages an operator can act on: 'tls' or 'wss'. */
  readonly sources: Readonly<Record<keyof TlsFiles, 'tls' | 'wss'>>;
  readonly verifyPeer: boolean;
  readonly failIfNoPeerCert: boolean;
  readonly versions: readonly string[];
  readonly ciphers: readonly string[];
}

const FILE_KEYS: readonly (keyof TlsFiles)[] = ['certFile', 'keyFile', 'caFile', 'password'];

/** A listener's TLS settings; a ConfigError names the setting to fix when the certificate or key is unset. */
export function tlsSettings(config: WarrenConfig, listener: TlsListenerName): TlsSettings {
  const own = listener === 'wss' ? config.wss : undefined;
  const files: TlsFiles = { certFile: null, keyFile: null, caFile: null, password: null };
  const sources = {} as Record<keyof TlsFiles, 'tls' | 'wss'>;
  for (const key of FILE_KEYS) {
    const mine = own?.[key] ?? null;
    files[key] = mine ?? config.tls[key];
    sources[key] = mine === null ? 'tls' : 'wss';
  }
  for (const key of ['certFile', 'keyFile'] as const) {
    if (files[key] !== null) continue;
    const names = listener === 'wss' ? `wss.${key} or tls.${key}` : `tls.${key}`;
    throw new ConfigError(`the ${listener} listener needs a ${CERT_WORDS[key]}: set ${names}`);
  }
  const { verifyPeer, failIfNoPeerCert, versions, ciphers } = config.tls;
  return { listener, files, sources, verifyPeer, failIfNoPeerCert, versions, ciphers };
}

const CERT_WORDS = { certFile: 'certificate', keyFile: 'private key' } as const;

/**
 * What tls.createSecureContext takes, read from the files now: what a reload rebuilds. Versions become
 * Node's minVersion..maxVersion (the lowest and highest listed), ciphers one OpenSSL cipher string; whatever is
 * unset keeps Node's defaults. Throws a ConfigError naming the setting whose file cannot be read or used.
 */
export function secureContextOptions(settings: TlsSettings): SecureContextOptions {
  const { files } = settings;
  const read = (key: 'certFile' | 'keyFile' | 'caFile'): Buffer | undefined => {
    const file = files[key];
    if (file === null) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${settings.sources[key]}.${key}: cannot read ${file}: ${reasonOf(err)}`);
    }
  };
  const options: SecureContextOptions = { cert: read('certFile'), key: read('keyFile') };
  const ca = read('caFile');
  if (ca !== undefined) options.ca = ca;
  if (files.password !== null) options.passphrase = files.password;
  const versions = settings.versions.map((v) => TLS_VERSIONS[v.toLowerCase()]);
  if (versions.length > 0) {
    const ranks = versions.map((v) => (v === undefined ? -1 : VERSION_ORDER.indexOf(v)));
    if (ranks.includes(-1))
      throw new ConfigError(`tls.versions: expected ${Object.keys(TLS_VERSIONS).join(', ')}`);
    options.minVersion = VERSION_ORDER[Math.min(...ranks)];
    options.maxVersion = VERSION_ORDER[Math.max(...ranks)];
  }
  if (settings.ciphers.length > 0) options.ciphers = settings.ciphers.join(':');
  try {
    // Parses everything once, so a bad PEM, a wrong passphrase or a key that does not match is caught here.
    createSecureContext(options);
  } catch (err) {
    const { certFile, keyFile } = settings.sources;
    throw new ConfigError(
      `${settings.listener}: the certificate, key or CA (${certFile}.certFile, ${keyFile}.keyFile, ` +
        `${settings.sources.caFile}.caFile) cannot be used: ${reasonOf(err)}`,
    );
  }
  return options;
}

function reasonOf(err: unknown): string {
  // Not `instanceof Error`: errors from another realm (a vm context, a test sandbox) would miss it.
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/** OpenSSL's verify results for a client certificate, in the words of the TLS alert RabbitMQ would send. */
const VERIFY_REASONS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown ca',
};

/**
 * Why a completed handshake is refused, or undefined to admit the peer: RabbitMQ's verify_peer (a certificate,
 * if presented, must verify) and fail_if_no_peer_cert (one must be presented).
 *
 * Node's own rejectUnauthorized would destroy such sockets itself, but silently and with the peer's address
 * already gone, so servers here never set it and this check runs instead, where the refusal can be logged.
 */
export function refusalReason(socket: TLSSocket, settings: TlsSettings): string | undefined {
  if (!settings.verifyPeer || socket.authorized) return undefined;
  // getPeerCertificate() is {} when the client sent none.
  if (socket.getPeerCertificate().subject === undefined) {
    return settings.failIfNoPeerCert ? 'no client certificate' : undefined;
  }
  // Typed as an Error, but node:tls stores the code of the verify error here ('CERT_HAS_EXPIRED').
  const code = String(socket.authorizationError);
  return VERIFY_REASONS[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

/** How long to wait after a file changed before reloading: a rotation writes the certificate, then the key. */
const RELOAD_DEBOUNCE_MS = 500;
/** How often the files are stat()ed. Polling follows a path through renames and symlink swaps (Kubernetes). */
const WATCH_INTERVAL_MS = 1000;

/**
 * One TLS listener's certificates and policy: makes its server (as the protocol packages' Secure*ServerFactory),
 * logs its refused handshakes, and swaps in new certificates on reload() or when the files change.
 */
export class TlsEndpoint {
  private readonly servers = new Set<TlsServer>();
  private context: SecureContextOptions;
  private readonly log: Logger;
  private readonly watched: string[] = [];
  private debounce: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly settings: TlsSettings,
    logger: Logger,
    /** limits.handshakeTimeoutMs: a peer that stalls its TLS handshake is cut like one that stalls AMQP's. */
    private readonly handshakeTimeoutMs: number,
  ) {
    this.log = logger.child({ listener: settings.listener });
    this.context = secureContextOptions(settings);
  }

  get name(): TlsListenerName {
    return this.settings.listener;
  }

  /** For AMQPS and STOMPS: calls onSocket only for the peers the policy admits. */
  createServer(options: ServerOpts, onSocket: (socket: Socket) => void): TlsServer {
    return this.track(
      createTlsServer({ ...options, ...this.serverOptions() }, (socket) => {
        if (this.admit(socket)) onSocket(socket);
      }),
    );
  }

  /** For WSS and the management API's HTTPS: an https.Server whose refused peers are gone before any HTTP request is read. */
  createHttpServer(options: HttpServerOptions, onRequest: RequestListener): HttpsServer {
    const server = createHttpsServer({ ...options, ...this.serverOptions() }, onRequest);
    // First in line, before http's own listener: that one then sees a destroyed socket, whose 'close' frees
    // the parser it attached, so a refused peer never gets to send a request.
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      this.admit(socket);
    });
    return this.track(server);
  }

  /**
   * Rebuilds the secure context from the files and installs it on every server: open connections keep the
   * one they shook hands with, new handshakes get the new one. A context that cannot be built (a half-written
   * or mismatched pair) is logged and the previous one stays. Returns whether the new one is in place.
   * `trigger` (a signal, 'file change', 'request') goes into the log line.
   */
  reload(trigger = 'request'): boolean {
    let context: SecureContextOptions;
    try {
      context = secureContextOptions(this.settings);
    } catch (err) {
      this.log.error(
        { trigger, reason: reasonOf(err) },
        'TLS certificates not reloaded; keeping the previous ones',
      );
      return false;
    }
    this.context = context;
    for (const server of this.servers) server.setSecureContext(context);
    this.log.info(
      { trigger, certFile: this.settings.files.certFile, ...describeCertificate(context) },
      'TLS certificates reloaded',
    );
    return true;
  }

  /** Reloads (after a short quiet spell) whenever the certificate, key or CA file changes. */
  watch(): void {
    const { certFile, keyFile, caFile } = this.settings.files;
    for (const file of [certFile, keyFile, caFile]) {
      if (file === null || this.watched.includes(file)) continue;
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, this.changed);
      this.watched.push(file);
    }
  }

  /** Stops watching; the servers close with their listeners. */
  close(): void {
    for (const file of this.watched.splice(0)) unwatchFile(file, this.changed);
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = undefined;
  }

  private readonly changed = (current: Stats, previous: Stats): void => {
    // watchFile also reports accesses; only a new inode, size or mtime is a new file.
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    ) {
      return;
    }
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.reload('file change');
    }, RELOAD_DEBOUNCE_MS);
    this.debounce.unref();
  };

  private serverOptions(): TlsOptions {
    return {
      ...this.context,
      requestCert: this.settings.verifyPeer,
      // refusalReason() decides instead, so that every refusal is logged (see there).
      rejectUnauthorized: false,
      ...(this.handshakeTimeoutMs > 0 ? { handshakeTimeout: this.handshakeTimeoutMs } : {}),
    };
  }

  private track<S extends TlsServer>(server: S): S {
    this.servers.add(server);
    server.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: TLSSocket) => {
      // A peer that connects and leaves without a word is a TCP health check, not news.
      const level = err.code === 'ECONNRESET' ? 'debug' : 'info';
      this.log[level](
        { remote: remoteOf(socket), reason: err.reason ?? err.message, code: err.code },
        'TLS handshake failed',
      );
    });
    server.on('close', () => this.servers.delete(server));
    return server;
  }

  /** Applies refusalReason(): a refused peer is logged and destroyed. */
  private admit(socket: TLSSocket): boolean {
    const reason = refusalReason(socket, this.settings);
    if (reason === undefined) return true;
    this.log.warn({ remote: remoteOf(socket), reason }, 'TLS handshake failed');
    socket.destroy();
    return false;
  }
}

function remoteOf(socket: TLSSocket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
}

/** The serial and expiry of the leaf certificate, for the reload log line. */
function describeCertificate(context: SecureContextOptions): { serial?: string; validTo?: string } {
  try {
    const leaf = new X509Certificate(context.cert as Buffer);
    return { serial: leaf.serialNumber, validTo: leaf.validTo };
  } catch {
    return {};
  }
}

/** The TLS endpoints of one server, so that SIGHUP reloads them all and close() stops their watchers. */
export class TlsEndpoints {
  private readonly endpoints: TlsEndpoint[] = [];

  constructor(
    private readonly config: WarrenConfig,
    private readonly logger: Logger,
    private readonly handshakeTimeoutMs: number,
  ) {}

  /** The endpoint of one listener; its settings are checked and its files read now. */
  open(listener: TlsListenerName): TlsEndpoint {
    const endpoint = new TlsEndpoint(
      tlsSettings(this.config, listener),
      this.logger,
      this.handshakeTimeoutMs,
    );
    this.endpoints.push(endpoint);
    endpoint.watch();
    return endpoint;
  }

  /** Reloads every endpoint; true when all of them took their new certificates. */
  reload(trigger?: string): boolean {
    return this.endpoints.map((e) => e.reload(trigger)).every(Boolean);
  }

  close(): void {
    for (const e of this.endpoints) e.close();
  }
}
