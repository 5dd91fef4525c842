import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ListenError, silentLogger, type Limits, type Logger } from '@warren/core';
import {
  DEFAULT_SERVER_NAME,
  type StompListener,
  type StompListenerOptions,
  type StompSession,
  type StompSessionOptions,
} from '@warren/stomp';
import { WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import { StompWsConnection } from './connection';
import { DemoSite } from './demo-site';
import { chooseSubprotocol } from './subprotocol';

/** The TCP listener's options (broker, host, port 15674 here, logger, limits, ...) plus WebSocket's own. */
export interface StompWsListenerOptions extends Omit<StompListenerOptions, 'tls'> {
  /** WSS: accept over TLS (HTTPS upgrades) instead of plain HTTP; the listener is then named 'wss'. */
  tls?: SecureHttpServerFactory;
  /** Where clients upgrade; default '/ws' (RabbitMQ's). */
  path?: string;
  /**
   * Origins (`https://app.example.com`) a browser may connect from; unset allows any. A request without an
   * Origin header is not from a browser page (browsers always send one on a WebSocket upgrade) and is allowed.
   */
  allowedOrigins?: readonly string[];
  /** Every frame as a binary message; by default text, and binary only for a body that is not UTF-8. */
  binaryFrames?: boolean;
  /** permessage-deflate; off by default (CPU per message for little gain on small frames). */
  compression?: boolean | PerMessageDeflateOptions;
  /** The demo page's directory; default the package's static/; null serves no page. */
  staticDir?: string | null;
  /**
   * Ping a client that has gone silent for a heart-beat interval and count its pong as liveness (default
   * true), so a background browser tab survives; false counts STOMP heart-beats only, as RabbitMQ does.
   */
  pingKeepalive?: boolean;
}

/**
 * Makes the WSS listener's server in place of http.createServer: an https.Server whose handshakes pass the TLS
 * policy of @warren/server's tls module (as the TCP listeners' SecureServerFactory does).
 */
export interface SecureHttpServerFactory {
  createHttpServer(options: ServerOptions, onRequest: RequestListener): Server;
}

/** Structurally the server's Listener, as the TCP one; close() ends every WebSocket with 1001. */
export interface StompWsListener extends Omit<StompListener, 'name'> {
  readonly name: 'ws' | 'wss';
}

/**
 * A message may be a little larger than the largest STOMP frame (a trailing heart-beat EOL, a client that packs
 * frames together): a frame just over the limit then still gets STOMP's ERROR, not a bare close 1009.
 */
const MESSAGE_SLACK = 64 * 1024;

/** Opens the STOMP-over-WebSocket listener; resolves once it accepts connections, rejects if it cannot bind. */
export async function listenStompWs(options: StompWsListenerOptions): Promise<StompWsListener> {
  const name = options.tls === undefined ? 'ws' : 'wss';
  const logger = (options.logger ?? silentLogger).child({ listener: name });
  const limits: Limits = { ...options.broker.limits, ...options.limits };
  const path = options.path ?? '/ws';
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
  const transportOptions = {
    maxOutboundBytes: limits.maxOutboundBytes,
    binaryFrames: options.binaryFrames ?? false,
  };
  const origins = options.allowedOrigins === undefined ? undefined : new Set(options.allowedOrigins);
  const site = await loadSite(options.staticDir, path, logger);

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.stompMaxFrameSize + MESSAGE_SLACK,
    perMessageDeflate: options.compression ?? false,
    handleProtocols: (offered) => chooseSubprotocol(offered),
  });
  const connections = new Set<StompWsConnection>();
  const sessions = new Set<StompSession>();
  let closing = false;

  // Node checks its headers timeout only this often (30 s by default), which would make the bound below loose.
  const serverOptions: ServerOptions = { connectionsCheckingInterval: 1000 };
  const onRequest: RequestListener = (request, response) => {
    const pathname = pathOf(request);
    if (pathname === path) {
      response.writeHead(426, { Upgrade: 'websocket', Connection: 'Upgrade', 'Content-Length': 0 }).end();
    } else if (site === undefined || !site.handle(request, response, pathname)) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
    }
  };
  const server =
    options.tls === undefined
      ? createServer(serverOptions, onRequest)
      : options.tls.createHttpServer(serverOptions, onRequest);
  // An upgrade request that never completes its headers holds a socket: cut it as a half-open AMQP or STOMP
  // handshake is (Node's own default waits a minute). After the upgrade the STOMP session's timer takes over.
  if (limits.handshakeTimeoutMs > 0) server.headersTimeout = limits.handshakeTimeoutMs;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'WebSocket upgrade socket error'));
    if (closing) return refuse(socket, 503);
    if (pathOf(request) !== path) return refuse(socket, 404);
    const origin = request.headers.origin;
    if (origins !== undefined && origin !== undefined && !origins.has(origin)) {
      logger.info({ origin }, 'WebSocket upgrade from an origin not allowed');
      return refuse(socket, 403);
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new StompWsConnection(
        ws,
        socket,
        request,
        sessionOptions,
        transportOptions,
        options.pingKeepalive ?? true,
        logger,
        (gone) => {
          connections.delete(gone);
          sessions.delete(gone.session);
        },
      );
      connections.add(connection);
      sessions.add(connection.session);
    });
  });

  const host = options.host ?? '0.0.0.0';
  const port = options.port ?? 15674;
  await new Promise<void>((resolve, reject) => {
    const refused = (err: Error): void => reject(new ListenError('STOMP over WebSocket', host, port, err));
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'WebSocket listener error'));
  const bound = server.address() as AddressInfo;
  logger.info({ host: bound.address, port: bound.port, path }, 'STOMP over WebSocket listener open');
  let stopped: Promise<void> | undefined;
  // Settles once the server socket is closed and every connection is gone (net.Server.close). An upgrade
  // on a page's keep-alive connection still gets in after the port closes: `closing` answers it 503.
  const stopAccepting = (): Promise<void> => {
    closing = true;
    return (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  };
  return {
    name,
    address: { host: bound.address, port: bound.port },
    sessions,
    stopAccepting: () => void stopAccepting(),
    close: async () => {
      const closed = stopAccepting();
      // Idle keep-alive connections of page requests would hold close() up for the keep-alive timeout.
      server.closeIdleConnections();
      for (const c of [...connections]) c.goAway();
      await closed;
      wss.close();
    },
  };
}

/** The request path without its query; '' when the URL cannot be parsed. */
function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://x').pathname;
  } catch {
    return '';
  }
}

/** Answers an upgrade it will not take with a bare HTTP status, as ws itself does for a bad handshake. */
function refuse(socket: Duplex, status: number): void {
  const text = STATUS_CODES[status] ?? '';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

async function loadSite(
  dir: string | null | undefined,
  wsPath: string,
  logger: Logger,
): Promise<DemoSite | undefined> {
  if (dir === null) return undefined;
  const from = dir ?? join(__dirname, '..', 'static');
  try {
    return await DemoSite.load(from, wsPath);
  } catch (err) {
    logger.warn({ err, dir: from }, 'demo page not served: its directory cannot be read');
    return undefined;
  }
}
