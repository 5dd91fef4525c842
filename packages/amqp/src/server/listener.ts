import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
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
  /** Reported in connection.start's server properties. */
  version?: string;
}

export interface AmqpListener {
  readonly name: 'amqp';
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
  const log = logger.child({ protocol: 'amqp' });
  const connections = new Set<AmqpConnection>();
  const sockets = new Map<AmqpConnection, Socket>();
  // highWaterMark: write() reports back-pressure once this much is queued for one socket (DESIGN §6).
  const server: Server = createServer({ noDelay: true, highWaterMark: limits.maxOutboundBytes }, (socket) => {
    const transport = new SocketTransport('amqp', socket);
    const c = new AmqpConnection(transport, {
      broker,
      logger: log,
      limits,
      version: options.version ?? '0.1.0',
      onClosed: (closed) => connections.delete(closed),
    });
    connections.add(c);
    sockets.set(c, socket);
    transport.attach(
      c,
      (err) => c.log.debug({ err }, 'socket error'),
      () => sockets.delete(c),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const refused = (err: Error): void =>
      reject(new ListenError('AMQP 0-9-1', options.host, options.port, err));
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
    name: 'amqp',
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
