import { createServer, type AddressInfo, type Server, type ServerOpts, type Socket } from 'node:net';
import {
  ListenError,
  resolveLimits,
  SocketTransport,
  type Broker,
  type Limits,
  type Logger,
} from '@warren/core';
import { AmqpConnection } from './amqp-connection';

export interface AmqpListenerOptions {
  broker: Broker;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  limits?: Limits;
  /** Reported in connection.start's server properties; default 'Warren'. */
  product?: string;
  /** Reported in connection.start's server properties. */
  version?: string;
  /** SASL mechanisms offered, in order (RabbitMQ's auth_mechanisms); default PLAIN, AMQPLAIN. */
  authMechanisms?: readonly string[];
  /** AMQPS: accept over TLS instead of plain TCP; the listener is then named 'amqps'. */
  tls?: SecureServerFactory;
}

/**
 * Makes a TLS listener's server in place of net.createServer: a tls.Server that calls onSocket only for peers
 * whose handshake completed and whose certificate its policy admits. @warren/server builds these from the tls.*
 * settings, so certificate handling and reloads live in one place for every protocol.
 */
export interface SecureServerFactory {
  createServer(options: ServerOpts, onSocket: (socket: Socket) => void): Server;
}

export interface AmqpListener {
  readonly name: 'amqp' | 'amqps';
  readonly address: { host: string; port: number };
  readonly connections: ReadonlySet<AmqpConnection>;
  /** Refuses new connections; open ones carry on. */
  stopAccepting(): void;
  /** Stops accepting, closes every connection (320 CONNECTION_FORCED), resolves when all sockets are gone. */
  close(): Promise<void>;
}

/** How long connections get to finish their close handshake at shutdown before their sockets are cut. */
const SHUTDOWN_GRACE_MS = 2000;

/** Opens the AMQP 0-9-1 listener; resolves once it accepts connections, rejects if it cannot bind. */
export async function listenAmqp(options: AmqpListenerOptions): Promise<AmqpListener> {
  const { broker, logger } = options;
  const limits = options.limits ?? broker.limits ?? resolveLimits();
  const name = options.tls === undefined ? 'amqp' : 'amqps';
  const log = logger.child({ protocol: name });
  const connections = new Set<AmqpConnection>();
  const sockets = new Map<AmqpConnection, Socket>();
  // highWaterMark: write() reports back-pressure once this much is queued for one socket (DESIGN §6).
  const serverOptions: ServerOpts = { noDelay: true, highWaterMark: limits.maxOutboundBytes };
  const onSocket = (socket: Socket): void => {
    const transport = new SocketTransport('amqp', socket);
    const c = new AmqpConnection(transport, {
      broker,
      logger: log,
      limits,
      product: options.product,
      version: options.version ?? '0.1.0',
      authMechanisms: options.authMechanisms,
      onClosed: (closed) => connections.delete(closed),
    });
    connections.add(c);
    sockets.set(c, socket);
    transport.attach(
      c,
      (err) => c.log.debug({ err }, 'socket error'),
      () => sockets.delete(c),
    );
  };
  const server: Server =
    options.tls === undefined
      ? createServer(serverOptions, onSocket)
      : options.tls.createServer(serverOptions, onSocket);
  await new Promise<void>((resolve, reject) => {
    const refused = (err: Error): void =>
      reject(
        new ListenError(
          name === 'amqps' ? 'AMQP 0-9-1 over TLS' : 'AMQP 0-9-1',
          options.host,
          options.port,
          err,
        ),
      );
    server.once('error', refused);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', refused);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'listener error'));
  const address = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  const stopAccepting = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    name,
    address: { host: address.address, port: address.port },
    connections,
    stopAccepting: () => void stopAccepting(),
    close: () => closeListener(stopAccepting(), connections, sockets),
  };
}

/** `stopped` settles once the server socket is closed and every connection is gone (net.Server.close). */
async function closeListener(
  stopped: Promise<void>,
  connections: Set<AmqpConnection>,
  sockets: Map<AmqpConnection, Socket>,
): Promise<void> {
  const gone = [...sockets.values()].map(
    (s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))),
  );
  for (const c of connections) c.shutdown();
  const grace = setTimeout(() => {
    for (const s of sockets.values()) s.destroy();
  }, SHUTDOWN_GRACE_MS);
  await Promise.all([stopped, ...gone]);
  clearTimeout(grace);
}
