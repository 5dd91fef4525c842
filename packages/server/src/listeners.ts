import { hostname } from 'node:os';
import { listenAmqp, type AmqpListenerOptions } from '@warren/amqp';
import type { ClusterNode } from '@warren/cluster';
import type { Broker, Logger } from '@warren/core';
import type { Journal } from '@warren/journal';
import {
  listenManagement,
  type ClusterPeers,
  type ListenerInfo,
  type ManagementListenOptions,
} from '@warren/management';
import { clusterPermanentId, listenPrometheus } from '@warren/prometheus';
import { listenStomp, type StompListenerOptions } from '@warren/stomp';
import { listenStompWs, type StompWsListenerOptions } from '@warren/stomp-ws';
import type { WarrenConfig } from './config';
import type { TlsEndpoint, TlsEndpoints, TlsListenerName } from './tls';
import { VERSION } from './version';

export interface ListenerAddress {
  readonly host: string;
  readonly port: number;
}

/** One open server socket speaking one protocol. */
export interface Listener {
  /** The protocol, as it appears in logs: 'amqp', 'amqps', 'stomp', 'stomps', 'ws', 'wss', 'http', 'https'. */
  readonly name: string;
  /** Where it actually listens: with port 0 in the config, the port the OS picked. */
  readonly address: ListenerAddress;
  /**
   * An HTTP listener that keeps answering while the broker drains, so health checks and /ready can say 503
   * until the end; it stops and closes after the broker. Undefined for the protocol listeners.
   */
  readonly lastToClose?: boolean;
  /** Refuses new connections and leaves open ones be: the first step of a shutdown, on every other listener. */
  stopAccepting(): void;
  /** Stops accepting, closes its connections, resolves when every socket is gone. */
  close(): Promise<void>;
}

export interface ListenerContext {
  /** Started: durable state is restored before any listener opens. */
  readonly broker: Broker;
  readonly config: WarrenConfig;
  readonly logger: Logger;
  /** Where TLS listeners get their certificates (see tls.ts), so that a reload reaches every one of them. */
  readonly tls: TlsEndpoints;
  /** The listeners open so far, this one's included once it is up: what the management API lists. */
  readonly listeners: () => readonly Listener[];
  /** False from the moment a shutdown begins: what readiness checks report. */
  readonly serving: () => boolean;
  /** The broker's store, for the journal's metrics; undefined on a cluster node (its queues are streams). */
  readonly journal: Journal | undefined;
  /** This process's node of a cluster; undefined on a single broker. */
  readonly cluster: ClusterNode | undefined;
}

/**
 * Opens one listener; resolves once it accepts connections, rejects if it cannot bind. Resolves undefined for a
 * listener the configuration leaves off (a TLS one without a port).
 */
export type ListenerFactory = (context: ListenerContext) => Promise<Listener | undefined>;

/** The advertised product version: the operator's product.version, else Warren's own release. */
const productVersion = (config: WarrenConfig): string => config.product.version ?? VERSION;

const amqpOptions = ({ broker, config, logger }: ListenerContext): AmqpListenerOptions => ({
  broker,
  host: config.amqp.host,
  port: config.amqp.port,
  logger,
  limits: broker.limits,
  product: config.product.name,
  version: productVersion(config),
  authMechanisms: config.authMechanisms,
});

/** Without `tls`, which the WebSocket listener takes in its HTTP form. */
const stompOptions = ({ broker, config, logger }: ListenerContext): Omit<StompListenerOptions, 'tls'> => ({
  broker,
  host: config.stomp.host,
  port: config.stomp.port,
  logger,
  serverName: `${config.product.name}/${productVersion(config)}`,
  ...stompSessionDefaults(config),
});

/** Listener names as RabbitMQ's /api/overview spells the protocols. */
const RABBITMQ_PROTOCOLS: Readonly<Record<string, string>> = {
  amqp: 'amqp',
  amqps: 'amqp/ssl',
  stomp: 'stomp',
  stomps: 'stomp/ssl',
  ws: 'http/web-stomp',
  wss: 'https/web-stomp',
  http: 'http',
  https: 'https',
};

/** What the management API asks the other nodes of a cluster through (see packages/management's cluster.ts). */
const clusterPeers = (node: ClusterNode): ClusterPeers => ({
  node: node.name,
  nodes: () => node.knownNodes,
  ask: (question, args) => node.ask(question, args),
  answerWith: (question, answerer) => node.answerWith(question, answerer),
});

const managementOptions = ({
  broker,
  config,
  logger,
  listeners,
  serving,
  cluster,
}: ListenerContext): ManagementListenOptions => ({
  broker,
  host: config.http.host,
  port: config.http.port,
  logger,
  serving,
  productName: config.product.name,
  productVersion: productVersion(config),
  dataDir: config.dataDir,
  diskFreeLimit: config.diskFreeLimit,
  listeners: (): ListenerInfo[] =>
    listeners().map(({ name, address }) => ({
      protocol: RABBITMQ_PROTOCOLS[name] ?? name,
      ip_address: address.host,
      port: address.port,
    })),
  ...(cluster === undefined ? {} : { cluster: clusterPeers(cluster) }),
});

/** The management API keeps answering while the broker drains: its health checks say 503 until the end. */
const lastToClose = (listener: Listener): Listener => Object.assign(listener, { lastToClose: true });

async function prometheusOptions(context: ListenerContext) {
  const { broker, config, logger, serving, journal, cluster } = context;
  // RabbitMQ's default cluster name is its first node's name.
  const node = cluster?.name ?? `warren@${hostname()}`;
  return {
    broker,
    host: config.prometheus.host,
    port: config.prometheus.port,
    logger,
    serving,
    node,
    cluster: node,
    clusterId: await clusterPermanentId(config.dataDir),
    productVersion: VERSION,
    dataDir: config.dataDir,
    diskFreeLimit: config.diskFreeLimit,
    ...(journal === undefined ? {} : { journal: () => journal.histograms() }),
  };
}

const wsOptions = (context: ListenerContext): StompWsListenerOptions => {
  const { ws } = context.config;
  return {
    ...stompOptions(context),
    host: ws.host,
    port: ws.port,
    path: ws.path,
    binaryFrames: ws.binaryFrames,
    compression: ws.compression,
    allowedOrigins: ws.allowedOrigins.length > 0 ? ws.allowedOrigins : undefined,
    pingKeepalive: ws.pingKeepalive,
  };
};

/**
 * Where a TLS listener binds and its certificates, or undefined while its port is null (off, the default).
 * Everything else it shares with its plain twin, so the two never drift apart.
 */
function secureEndpoint(
  context: ListenerContext,
  name: TlsListenerName,
): { host: string; port: number; tls: TlsEndpoint } | undefined {
  const { host, port } = context.config[name];
  return port === null ? undefined : { host, port, tls: context.tls.open(name) };
}

/**
 * The listeners `warren start` opens, in this order. A protocol joins by adding its factory here.
 */
export const LISTENERS: readonly ListenerFactory[] = [
  (context) => listenAmqp(amqpOptions(context)),
  (context) => listenStomp(stompOptions(context)),
  (context) => listenStompWs(wsOptions(context)),
  async (context) => lastToClose(await listenManagement(managementOptions(context))),
  async (context) => listenPrometheus(await prometheusOptions(context)),
  async (context) => {
    const secure = secureEndpoint(context, 'amqps');
    return secure && listenAmqp({ ...amqpOptions(context), ...secure });
  },
  async (context) => {
    const secure = secureEndpoint(context, 'stomps');
    const { sslCertLogin } = context.config.stomp;
    return secure && listenStomp({ ...stompOptions(context), ...secure, sslCertLogin });
  },
  async (context) => {
    const secure = secureEndpoint(context, 'wss');
    const { sslCertLogin } = context.config.stomp;
    return secure && listenStompWs({ ...wsOptions(context), ...secure, sslCertLogin });
  },
  async (context) => {
    const secure = secureEndpoint(context, 'https');
    if (secure === undefined) return undefined;
    const { host, port, tls } = secure;
    const createServer = tls.createHttpServer.bind(tls);
    return lastToClose(
      await listenManagement({ ...managementOptions(context), host, port, name: 'https', createServer }),
    );
  },
];

/**
 * The stomp.* defaults, shared by STOMP over TCP and over WebSocket (as in RabbitMQ's Web STOMP plugin), and
 * by their TLS twins.
 */
function stompSessionDefaults({ stomp }: WarrenConfig) {
  const user = stomp.defaultUser;
  return {
    defaultLogin: user === null ? null : { login: user.name, passcode: user.password },
    defaultVhost: stomp.defaultVhost,
    unknownHost: stomp.unknownHost,
    implicitConnect: stomp.implicitConnect,
  };
}
