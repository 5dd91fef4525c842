import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type ServerOpts, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  ListenError,
  silentLogger,
  SocketTransport,
  type Broker,
  type Limits,
  type Logger,
} from '@warren/core';
import { StompSession, type StompSessionOptions } from './session/session';

export interface StompListenerOptions {
  /** Started: durable state is restored before a listener opens. */
  broker: Broker;
  /** Default '0.0.0.0'. */
  host?: string;
  /** Default 61613; 0 picks a free port. */
  port?: number;
  logger?: Logger;
  /** Over the broker's limits (stompMaxFrameSize, stompMaxHeaders, ...). */
  limits?: Partial<Limits>;
  /** CONNECTED `server` header; default `Warren/<package version>`. */
  serverName?: string;
  heartbeatGraceMs?: number;
  defaultLogin?: StompSessionOptions['defaultLogin'];
  defaultVhost?: StompSessionOptions['defaultVhost'];
  unknownHost?: StompSessionOptions['unknownHost'];
  implicitConnect?: StompSessionOptions['implicitConnect'];
  sslCertLogin?: StompSessionOptions['sslCertLogin'];
  /** STOMP over TLS: accept over TLS instead of plain TCP; the listener is then named 'stomps'. */
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

/** Structurally the server's Listener: the server wires it into `warren start` as is. */
export interface StompListener {
  readonly name: 'stomp' | 'stomps';
  readonly address: { readonly host: string; readonly port: number };
  /** Live sessions (for tests and the management API). */
  readonly sessions: ReadonlySet<StompSession>;
  /** Refuses new connections; open ones carry on. */
  stopAccepting(): void;
  /**
   * Stops accepting, tells every client the broker is going (ERROR connection_forced), resolves once every
   * socket is gone.
   */
  close(): Promise<void>;
}

/** Opens the STOMP TCP listener; resolves once it accepts connections, rejects if it cannot bind. */
export async function listenStomp(options: StompListenerOptions): Promise<StompListener> {
  const name = options.tls === undefined ? 'stomp' : 'stomps';
  const logger = (options.logger ?? silentLogger).child({ listener: name });
  const limits = { ...options.broker.limits, ...options.limits };
  const sessionOptions: StompSessionOptions = {
    broker: options.broker,
    logger,
    limits,
    serverName: options.serverName ?? DEFAULT_SERVER_NAME,
    heartbeatGraceMs: options.heartbeatGraceMs,
    defaultLogin: options.defaultLogin,
    defaultVhost: options.defaultVhost,
    unknownHost: options.unknownHost,
    implicitConnect: options.implicitConnect,
    sslCertLogin: options.sslCertLogin,
  };
  const sessions = new Set<StompSession>();
  const sockets = new Set<Socket>();
  // highWaterMark: write() reports back-pressure once this much is queued for one socket (DESIGN §6).
  const serverOptions: ServerOpts = { noDelay: true, highWaterMark: limits.maxOutboundBytes };
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    const transport = new SocketTransport('stomp', socket);
    const session = new StompSession(transport, sessionOptions);
    sessions.add(session);
    transport.attach(
      session,
      (err) => logger.debug({ err }, 'STOMP socket error'),
      () => {
        sockets.delete(socket);
        sessions.delete(session);
      },
    );
  };
  const server: Server =
    options.tls === undefined
      ? createServer(serverOptions, onSocket)
      : options.tls.createServer(serverOptions, onSocket);
  const host = options.host ?? '0.0.0.0';
  const port = options.port ?? 61613;
  await new Promise<void>((resolve, reject) => {
    const protocol = name === 'stomps' ? 'STOMP over TLS' : 'STOMP';
    const refused = (err: Error): void => reject(new ListenError(protocol, host, port, err));
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'STOMP listener error'));
  const bound = server.address() as AddressInfo;
  logger.info({ host: bound.address, port: bound.port }, 'STOMP listener open');
  let stopped: Promise<void> | undefined;
  // Settles once the server socket is closed and every connection is gone (net.Server.close).
  const stopAccepting = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    name,
    address: { host: bound.address, port: bound.port },
    sessions,
    stopAccepting: () => void stopAccepting(),
    close: async () => {
      const closed = stopAccepting();
      for (const s of [...sessions]) s.shutdown();
      // A client that does not close its end after the ERROR is cut once the grace is over.
      const grace = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(grace);
    },
  };
}

/** How long clients get to read the shutdown ERROR and close their sockets before they are cut. */
const SHUTDOWN_GRACE_MS = 2000;

/** package.json sits one level above both src/ (tests) and dist/ (the build); it is outside rootDir. */
const VERSION: string = readVersion();

/** The CONNECTED `server` header when the embedder names none: `Warren/<version>`. */
export const DEFAULT_SERVER_NAME = `Warren/${VERSION}`;

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version;
    }
  } catch {
    // Bundled without its package.json: the name alone is still a valid server header.
  }
  return '0.0.0';
}
