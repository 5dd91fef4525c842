import { MECHANISMS } from '@warren/amqp';
import { DEFAULT_LIMITS, type Limits } from '@warren/core';
import { LOG_FORMATS, LOG_LEVELS, type TlsFiles, type WarrenConfig } from './config';
import { TLS_VERSIONS } from './tls';
import {
  type Kind,
  port,
  optionalPort,
  count,
  amount,
  positiveCount,
  stringKind,
  nonEmptyString,
  urlPath,
  logLevel,
  unknownHost,
  logFormat,
  optionalPath,
  flag,
  nameList,
  choiceList,
  natsUrlList,
} from './setting-kinds';

/** Limits given as a fraction of something (or, above 1, as bytes); every other limit is a whole count. */
const FRACTION_LIMITS: ReadonlySet<keyof Limits> = new Set(['vmMemoryHighWatermark', 'heapHighWatermark']);

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
  /** Parses `text` and stores it in `config`; throws InvalidValue on bad input. */
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
    kind: FRACTION_LIMITS.has(name) ? amount : count,
    set: (c, v) => {
      c.limits[name] = v;
    },
  });
}

/** The cert, key, CA and passphrase rows of one TLS section: `tls` (shared) or `wss` (Web STOMP's own). */
function tlsFileSettings(section: 'tls' | 'wss', envPrefix: string, what: string): Setting[] {
  const rows: { name: keyof TlsFiles; env: string; describe: string; kind: Kind<string | null> }[] = [
    { name: 'certFile', env: 'CERT_FILE', describe: `${what}: certificate chain (PEM)`, kind: optionalPath },
    { name: 'keyFile', env: 'KEY_FILE', describe: `${what}: private key (PEM)`, kind: optionalPath },
    {
      name: 'caFile',
      env: 'CA_FILE',
      describe: `${what}: CA bundle for client certificates`,
      kind: optionalPath,
    },
    { name: 'password', env: 'KEY_PASSWORD', describe: `${what}: passphrase of the key`, kind: optionalPath },
  ];
  return rows.map(({ name, env, describe, kind }) =>
    setting({
      key: `${section}.${name}`,
      env: `${envPrefix}_${env}`,
      describe,
      kind,
      set: (c, v) => {
        c[section][name] = v;
      },
    }),
  );
}

/** Port and bind address of a listener that is off until given a port. */
function optionalListenerSettings(name: 'amqps' | 'stomps' | 'wss' | 'https', what: string): Setting[] {
  return [
    setting({
      key: `${name}.port`,
      env: `WARREN_${name.toUpperCase()}_PORT`,
      flag: `${name}-port`,
      describe: `${what} port (off unless set; 0 picks a free one)`,
      kind: optionalPort,
      set: (c, v) => {
        c[name].port = v;
      },
    }),
    setting({
      key: `${name}.host`,
      env: `WARREN_${name.toUpperCase()}_HOST`,
      describe: `${what} bind address`,
      kind: nonEmptyString,
      set: (c, v) => {
        c[name].host = v;
      },
    }),
  ];
}

const LISTENER_NAMES = {
  amqp: 'AMQP 0-9-1',
  stomp: 'STOMP',
  ws: 'STOMP over WebSocket',
  http: 'HTTP management',
  prometheus: 'Prometheus metrics',
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
  ...optionalListenerSettings('amqps', 'AMQP 0-9-1 over TLS'),
  ...optionalListenerSettings('stomps', 'STOMP over TLS'),
  ...optionalListenerSettings('wss', 'STOMP over secure WebSocket'),
  ...optionalListenerSettings('https', 'HTTPS management'),
  ...tlsFileSettings('tls', 'WARREN_TLS', 'TLS listeners'),
  ...tlsFileSettings('wss', 'WARREN_WSS', 'Secure WebSocket (defaults to the tls.* files)'),
  setting({
    key: 'tls.verifyPeer',
    env: 'WARREN_TLS_VERIFY_PEER',
    describe: 'Ask TLS clients for a certificate and verify it against tls.caFile',
    kind: flag,
    set: (c, v) => {
      c.tls.verifyPeer = v;
    },
  }),
  setting({
    key: 'tls.failIfNoPeerCert',
    env: 'WARREN_TLS_FAIL_IF_NO_PEER_CERT',
    describe: 'With verifyPeer, refuse TLS clients that present no certificate',
    kind: flag,
    set: (c, v) => {
      c.tls.failIfNoPeerCert = v;
    },
  }),
  setting({
    key: 'tls.versions',
    env: 'WARREN_TLS_VERSIONS',
    describe: "TLS versions allowed, e.g. tlsv1.2,tlsv1.3 (empty: Node's defaults)",
    kind: choiceList(Object.keys(TLS_VERSIONS)),
    set: (c, v) => {
      c.tls.versions = v;
    },
  }),
  setting({
    key: 'tls.ciphers',
    env: 'WARREN_TLS_CIPHERS',
    describe: "OpenSSL cipher suites allowed (comma-separated; empty: Node's defaults)",
    kind: nameList,
    set: (c, v) => {
      c.tls.ciphers = v;
    },
  }),
  setting({
    key: 'authMechanisms',
    env: 'WARREN_AUTH_MECHANISMS',
    describe: 'SASL mechanisms offered to AMQP clients, in order (PLAIN, AMQPLAIN, EXTERNAL)',
    kind: choiceList(MECHANISMS),
    set: (c, v) => {
      c.authMechanisms = v;
    },
  }),
  setting({
    key: 'stomp.defaultUser.name',
    env: 'WARREN_STOMP_DEFAULT_USER',
    describe: 'STOMP: login used when CONNECT has none',
    kind: nonEmptyString,
    set: (c, v) => {
      c.stomp.defaultUser = { name: v, password: c.stomp.defaultUser?.password ?? 'guest' };
    },
  }),
  setting({
    key: 'stomp.defaultUser.password',
    env: 'WARREN_STOMP_DEFAULT_PASSWORD',
    describe: 'STOMP: passcode used when CONNECT has none',
    kind: nonEmptyString,
    set: (c, v) => {
      c.stomp.defaultUser = { name: c.stomp.defaultUser?.name ?? 'guest', password: v };
    },
  }),
  setting({
    key: 'stomp.defaultVhost',
    env: 'WARREN_STOMP_DEFAULT_VHOST',
    describe: 'STOMP: vhost of a CONNECT without a host header',
    kind: nonEmptyString,
    set: (c, v) => {
      c.stomp.defaultVhost = v;
    },
  }),
  setting({
    key: 'stomp.unknownHost',
    env: 'WARREN_STOMP_UNKNOWN_HOST',
    describe:
      "STOMP: a CONNECT host naming no vhost: 'default-vhost' uses stomp.defaultVhost, 'refuse' as RabbitMQ",
    kind: unknownHost,
    set: (c, v) => {
      c.stomp.unknownHost = v;
    },
  }),
  setting({
    key: 'stomp.implicitConnect',
    env: 'WARREN_STOMP_IMPLICIT_CONNECT',
    describe: 'STOMP: accept frames before CONNECT as from the default user',
    kind: flag,
    set: (c, v) => {
      c.stomp.implicitConnect = v;
    },
  }),
  setting({
    key: 'stomp.sslCertLogin',
    env: 'WARREN_STOMP_SSL_CERT_LOGIN',
    describe: "STOMP over TLS: log in as the client certificate's CN when CONNECT has no login",
    kind: flag,
    set: (c, v) => {
      c.stomp.sslCertLogin = v;
    },
  }),
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
    key: 'ws.binaryFrames',
    env: 'WARREN_WS_BINARY_FRAMES',
    describe: 'Send every STOMP frame over WebSocket as a binary message',
    kind: flag,
    set: (c, v) => {
      c.ws.binaryFrames = v;
    },
  }),
  setting({
    key: 'ws.compression',
    env: 'WARREN_WS_COMPRESSION',
    describe: 'Offer permessage-deflate on WebSocket connections',
    kind: flag,
    set: (c, v) => {
      c.ws.compression = v;
    },
  }),
  setting({
    key: 'ws.allowedOrigins',
    env: 'WARREN_WS_ALLOWED_ORIGINS',
    describe: 'Origins allowed to open a WebSocket (comma-separated; empty allows any)',
    kind: nameList,
    set: (c, v) => {
      c.ws.allowedOrigins = v;
    },
  }),
  setting({
    key: 'ws.pingKeepalive',
    env: 'WARREN_WS_PING_KEEPALIVE',
    describe:
      'Ping silent WebSocket clients and count pongs as liveness (false: STOMP heart-beats only, as RabbitMQ)',
    kind: flag,
    set: (c, v) => {
      c.ws.pingKeepalive = v;
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
  setting({
    key: 'log.format',
    env: 'WARREN_LOG_FORMAT',
    flag: 'log-format',
    describe: `Log format (${LOG_FORMATS.join(', ')}; auto: pretty on a terminal, else JSON)`,
    kind: logFormat,
    set: (c, v) => {
      c.log.format = v;
    },
  }),
  setting({
    key: 'log.file',
    env: 'WARREN_LOG_FILE',
    describe: 'Also write JSON log lines to this file (reopened on SIGUSR1 or SIGHUP)',
    kind: optionalPath,
    set: (c, v) => {
      c.log.file = v;
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
    key: 'defaultUser.vhost',
    env: 'WARREN_DEFAULT_VHOST',
    describe: 'Vhost created on first start, where the default user gets its permissions',
    kind: nonEmptyString,
    set: (c, v) => {
      c.defaultUser.vhost = v;
    },
  }),
  setting({
    key: 'defaultUser.tags',
    env: 'WARREN_DEFAULT_USER_TAGS',
    describe: 'Tags of the default user (comma-separated)',
    kind: nameList,
    set: (c, v) => {
      c.defaultUser.tags = v;
    },
  }),
  ...(['configure', 'write', 'read'] as const).map((what) =>
    setting({
      key: `defaultUser.permissions.${what}`,
      env: `WARREN_DEFAULT_PERMISSIONS_${what.toUpperCase()}`,
      describe: `The default user's ${what} permission on its vhost (a regular expression)`,
      kind: stringKind((text) => text, 'expected a string'),
      set: (c, v) => {
        c.defaultUser.permissions[what] = v;
      },
    }),
  ),
  setting({
    key: 'loopbackUsers',
    env: 'WARREN_LOOPBACK_USERS',
    describe: 'Users allowed to connect only from localhost (comma-separated)',
    kind: nameList,
    set: (c, v) => {
      c.loopbackUsers = v;
    },
  }),
  setting({
    key: 'diskFreeLimit',
    env: 'WARREN_DISK_FREE_LIMIT',
    describe: 'Free bytes on the data directory below which publishers are blocked (0 = off)',
    kind: count,
    set: (c, v) => {
      c.diskFreeLimit = v;
    },
  }),
  // No 0 for "wait forever": a stuck store must never leave a broker that ignores SIGTERM.
  setting({
    key: 'shutdownTimeoutMs',
    env: 'WARREN_SHUTDOWN_TIMEOUT_MS',
    describe: 'Milliseconds a graceful shutdown may take before the process exits 1 anyway',
    kind: positiveCount,
    set: (c, v) => {
      c.shutdownTimeoutMs = v;
    },
  }),
  setting({
    key: 'warmUp',
    env: 'WARREN_WARM_UP',
    flag: 'warm-up',
    describe:
      'Before the listeners open, warm the per-message code with private loopback traffic (about 0.5 s)',
    kind: flag,
    set: (c, v) => {
      c.warmUp = v;
    },
  }),
  setting({
    key: 'loadDefinitions',
    env: 'WARREN_LOAD_DEFINITIONS',
    describe: 'RabbitMQ definitions file (or directory of .json files) imported at every start',
    kind: optionalPath,
    set: (c, v) => {
      c.loadDefinitions = v;
    },
  }),
  setting({
    key: 'product.name',
    env: 'WARREN_PRODUCT_NAME',
    describe: 'Product name advertised to AMQP and STOMP clients and by the management API',
    kind: nonEmptyString,
    set: (c, v) => {
      c.product.name = v;
    },
  }),
  setting({
    key: 'product.version',
    env: 'WARREN_PRODUCT_VERSION',
    describe: "Product version advertised with product.name (null: Warren's own release)",
    kind: nonEmptyString,
    set: (c, v) => {
      c.product.version = v;
    },
  }),
  setting({
    key: 'cluster.natsServers',
    env: 'WARREN_NATS_SERVERS',
    flag: 'nats-servers',
    describe: 'Cluster mode: the NATS JetStream servers this node joins (nats://h1:4222,nats://h2:4222)',
    kind: natsUrlList,
    set: (c, v) => {
      c.cluster.natsServers = v;
    },
  }),
  setting({
    key: 'cluster.nodeName',
    env: 'WARREN_NODE_NAME',
    flag: 'node-name',
    describe: "Cluster mode: this node's name (default: host name and AMQP port)",
    kind: nonEmptyString,
    set: (c, v) => {
      c.cluster.nodeName = v;
    },
  }),
  setting({
    key: 'cluster.replicas',
    env: 'WARREN_CLUSTER_REPLICAS',
    describe: 'Cluster mode: replicas of each queue stream and of the topology (at most the servers)',
    kind: positiveCount,
    set: (c, v) => {
      c.cluster.replicas = v;
    },
  }),
  setting({
    key: 'cluster.ackWaitMs',
    env: 'WARREN_CLUSTER_ACK_WAIT_MS',
    describe: "Cluster mode: how long a dead node's unacked deliveries wait before redelivery elsewhere",
    kind: positiveCount,
    set: (c, v) => {
      c.cluster.ackWaitMs = v;
    },
  }),
  ...(
    [
      ['natsUser', 'WARREN_NATS_USER', 'NATS user name', nonEmptyString],
      ['natsPassword', 'WARREN_NATS_PASSWORD', 'NATS password', nonEmptyString],
      ['natsToken', 'WARREN_NATS_TOKEN', 'NATS token', nonEmptyString],
      ['natsCaFile', 'WARREN_NATS_CA_FILE', 'CA bundle for the NATS servers (PEM)', optionalPath],
      ['natsCertFile', 'WARREN_NATS_CERT_FILE', "This node's certificate for NATS (PEM)", optionalPath],
      ['natsKeyFile', 'WARREN_NATS_KEY_FILE', "This node's private key for NATS (PEM)", optionalPath],
    ] as const
  ).map(([name, env, describe, kind]) =>
    setting<string | null>({
      key: `cluster.${name}`,
      env,
      describe: `Cluster mode: ${describe}`,
      kind,
      set: (c, v) => {
        c.cluster[name] = v;
      },
    }),
  ),
  ...(Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]).map(limitSetting),
];
