import type { Limits } from '@warren/core';

/**
 * Where one listener binds. The default host '::' accepts IPv6 and, through IPv4-mapped addresses, IPv4 too
 * (Linux sockets are dual-stack unless net.ipv6.bindv6only is set); use '0.0.0.0' on a host without IPv6.
 */
export interface Endpoint {
  host: string;
  /** 0 asks the OS for a free port; the listener reports the one it got. */
  port: number;
}

export interface WebSocketEndpoint extends Endpoint {
  /** The HTTP path a STOMP-over-WebSocket client upgrades on (RabbitMQ's Web STOMP uses /ws). */
  path: string;
  /** Send every frame as a binary WebSocket message (by default text, binary only for non-UTF-8 bodies). */
  binaryFrames: boolean;
  /** permessage-deflate; off by default (it costs CPU and memory per connection). */
  compression: boolean;
  /** Origins allowed to open a WebSocket; empty allows any (and requests without Origin always pass). */
  allowedOrigins: string[];
  /**
   * Ping a silent client and count its pongs as liveness, so a browser tab in the background (whose timers
   * are throttled and miss STOMP heart-beats) is not dropped; false: only STOMP heart-beats count, as in
   * RabbitMQ's Web STOMP.
   */
  pingKeepalive: boolean;
}

/** A listener that is off unless a port is set: the TLS ones, as in RabbitMQ (listeners.ssl.default). */
export interface OptionalEndpoint {
  host: string;
  /** null: not listening (the default); 0 asks the OS for a free port. */
  port: number | null;
}

/**
 * Certificate and key files of a TLS listener (PEM). Relative paths resolve against the working directory
 * when the configuration is loaded. null leaves the value unset.
 */
export interface TlsFiles {
  certFile: string | null;
  keyFile: string | null;
  /** The CA bundle client certificates are verified against; unset: Node's bundled roots. */
  caFile: string | null;
  /** The passphrase of an encrypted key. */
  password: string | null;
}

/** RabbitMQ's ssl_options: shared by AMQPS and STOMP over TLS, the defaults of WSS. */
export interface TlsOptions extends TlsFiles {
  /** Ask clients for a certificate and verify it against caFile (RabbitMQ's verify = verify_peer). */
  verifyPeer: boolean;
  /** With verifyPeer, refuse clients that send no certificate. */
  failIfNoPeerCert: boolean;
  /** Protocol versions allowed, e.g. ["tlsv1.2", "tlsv1.3"]; empty: Node's defaults. */
  versions: string[];
  /** OpenSSL cipher names; empty: Node's defaults. */
  ciphers: string[];
}

/** Web STOMP over TLS: its own files when set (RabbitMQ's web_stomp.ssl.*), else those of `tls`. */
export interface SecureWebSocketEndpoint extends OptionalEndpoint, TlsFiles {}

export interface UserCredentials {
  name: string;
  password: string;
}

/** The user created on first start and what it may do (RabbitMQ's default_user and friends). */
export interface DefaultUser extends UserCredentials {
  /** The vhost created on first start; the user is granted defaultPermissions on it. */
  vhost: string;
  tags: string[];
  permissions: { configure: string; write: string; read: string };
}

/** STOMP's own defaults (RabbitMQ's stomp.* keys). */
export interface StompOptions extends Endpoint {
  /**
   * Used when a CONNECT carries no login and passcode (stomp.default_user / default_pass): guest/guest, as
   * in RabbitMQ's STOMP plugin; null makes login and passcode required.
   */
  defaultUser: UserCredentials | null;
  /** The vhost of a CONNECT with no host header (stomp.default_vhost). */
  defaultVhost: string;
  /** A host header naming no vhost: 'default-vhost' connects there, 'refuse' answers as RabbitMQ does. */
  unknownHost: UnknownHost;
  /** Accept a first frame other than CONNECT as an implicit CONNECT with the default user. */
  implicitConnect: boolean;
  /** Log in as the TLS client certificate's CN when CONNECT carries no login (stomp.ssl_cert_login). */
  sslCertLogin: boolean;
}

export const UNKNOWN_HOST = ['default-vhost', 'refuse'] as const;
export type UnknownHost = (typeof UNKNOWN_HOST)[number];

export const LOG_FORMATS = ['json', 'pretty', 'auto'] as const;
/** auto: pretty when stdout is a terminal, JSON otherwise. */
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  format: LogFormat;
  /** Also write JSON lines to this file, reopened on SIGUSR1 or SIGHUP (logrotate); null: stdout only. */
  file: string | null;
}

/** pino's levels; 'silent' turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WarrenConfig {
  amqp: Endpoint;
  /** AMQP 0-9-1 over TLS (RabbitMQ's 5671); off by default. */
  amqps: OptionalEndpoint;
  stomp: StompOptions;
  /** STOMP over TLS (RabbitMQ's 61614); off by default. */
  stomps: OptionalEndpoint;
  ws: WebSocketEndpoint;
  /** STOMP over secure WebSocket (RabbitMQ's 15673), same path as ws; off by default. */
  wss: SecureWebSocketEndpoint;
  http: Endpoint;
  /** The management API over HTTPS (RabbitMQ's 15671), with the tls.* certificates; off by default. */
  https: OptionalEndpoint;
  /** The Prometheus endpoint (rabbitmq_prometheus's 15692): /metrics, /metrics/per-object, /ready. */
  prometheus: Endpoint;
  tls: TlsOptions;
  /** SASL mechanisms offered to AMQP clients, in order (RabbitMQ's auth_mechanisms); EXTERNAL needs TLS. */
  authMechanisms: string[];
  /** Absolute once loaded, so every log line names the same directory whatever the cwd later is. */
  dataDir: string;
  logLevel: LogLevel;
  log: LogOptions;
  /** Overrides of the core's bounds; anything left out keeps its DEFAULT_LIMITS value. */
  limits: Partial<Limits>;
  /** Created on first start when no users exist, as RabbitMQ creates guest/guest. */
  defaultUser: DefaultUser;
  /** Users allowed to log in only from the loopback interface (RabbitMQ's loopback_users). */
  loopbackUsers: string[];
  /**
   * RabbitMQ's disk_free_limit in bytes: below it on the data directory's file system, publishers are blocked
   * (AMQP connection.blocked) until space returns. 0 turns the check off.
   */
  diskFreeLimit: number;
  /**
   * How long a SIGTERM or SIGINT waits for the graceful close (listeners, clients, the final journal flush)
   * before the process logs what it is still waiting for and exits 1 anyway.
   */
  shutdownTimeoutMs: number;
  /**
   * `warren start` pushes paced loopback traffic through a private broker before its listeners open, so the
   * first clients meet optimised code (see warm-up.ts). Embedders of startServer choose with StartOptions.
   */
  warmUp: boolean;
  /**
   * A RabbitMQ definitions file (or a directory of them) imported at every start, after durable state is
   * restored and before any listener opens (RabbitMQ's load_definitions). Absolute once loaded.
   */
  loadDefinitions: string | null;
  product: ProductIdentity;
  cluster: ClusterOptions;
}

/**
 * Cluster mode (opt-in): with NATS servers named, this process is one node of a Warren cluster whose topology
 * and durable queues live in that NATS JetStream cluster (docs/cluster.md). Without, it is a single broker
 * with its own journal.
 */
export interface ClusterOptions {
  /** nats:// (or tls://) URLs of the JetStream cluster's servers; empty: single node. */
  natsServers: string[];
  /** This node's name among the others (null: the host name and the AMQP port). */
  nodeName: string | null;
  /** Stream and KV replicas (RabbitMQ's quorum queues' initial group size); capped at the servers' count. */
  replicas: number;
  /** How long JetStream waits for a node's ack before it redelivers elsewhere (a node's heartbeat keeps it). */
  ackWaitMs: number;
  natsUser: string | null;
  natsPassword: string | null;
  natsToken: string | null;
  /** TLS towards NATS: the CA that signed the servers' certificates, and this node's own pair. */
  natsCaFile: string | null;
  natsCertFile: string | null;
  natsKeyFile: string | null;
}

/**
 * What the broker calls itself to clients (AMQP connection.start, STOMP CONNECTED's server header) and in the
 * management API: RabbitMQ's product.name and product.version, for clients and monitors that check them.
 */
export interface ProductIdentity {
  name: string;
  /** null: Warren's own release. */
  version: string | null;
}

/**
 * Below Docker's 10 s between `docker stop`'s SIGTERM and its SIGKILL, so the line saying what a slow
 * shutdown was waiting for is written before the container is killed. A healthy broker closes in well under
 * a second: the store is flushed after every event-loop turn anyway.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8000;

const ALL_INTERFACES = '::';

/** A fresh copy of the built-in defaults; callers may mutate it. */
export function defaultConfig(): WarrenConfig {
  return {
    amqp: { host: ALL_INTERFACES, port: 5672 },
    amqps: { host: ALL_INTERFACES, port: null },
    stomp: {
      host: ALL_INTERFACES,
      port: 61613,
      defaultUser: { name: 'guest', password: 'guest' },
      defaultVhost: '/',
      unknownHost: 'default-vhost',
      implicitConnect: false,
      sslCertLogin: false,
    },
    stomps: { host: ALL_INTERFACES, port: null },
    ws: {
      host: ALL_INTERFACES,
      port: 15674,
      path: '/ws',
      binaryFrames: false,
      compression: false,
      allowedOrigins: [],
      pingKeepalive: true,
    },
    wss: { host: ALL_INTERFACES, port: null, certFile: null, keyFile: null, caFile: null, password: null },
    http: { host: ALL_INTERFACES, port: 15672 },
    https: { host: ALL_INTERFACES, port: null },
    prometheus: { host: ALL_INTERFACES, port: 15692 },
    tls: {
      certFile: null,
      keyFile: null,
      caFile: null,
      password: null,
      verifyPeer: false,
      failIfNoPeerCert: false,
      versions: [],
      ciphers: [],
    },
    authMechanisms: ['PLAIN', 'AMQPLAIN'],
    dataDir: './data',
    logLevel: 'info',
    log: { format: 'auto', file: null },
    limits: {},
    defaultUser: {
      name: 'guest',
      password: 'guest',
      vhost: '/',
      tags: ['administrator'],
      permissions: { configure: '.*', write: '.*', read: '.*' },
    },
    loopbackUsers: ['guest'],
    diskFreeLimit: 50_000_000,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    warmUp: true,
    loadDefinitions: null,
    product: { name: 'Warren', version: null },
    cluster: {
      natsServers: [],
      nodeName: null,
      replicas: 3,
      ackWaitMs: 30_000,
      natsUser: null,
      natsPassword: null,
      natsToken: null,
      natsCaFile: null,
      natsCertFile: null,
      natsKeyFile: null,
    },
  };
}

/** A configuration problem the operator must fix; the message names where the bad value came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
