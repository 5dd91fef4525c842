import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { Logger, PeerCertificate } from '@warren/core';
import { StompSession, type StompSessionOptions } from '@warren/stomp';
import type { RawData, WebSocket } from 'ws';
import { clientInterval, Keepalive } from './keepalive';
import { WebSocketTransport, type WebSocketTransportOptions } from './transport';

const NOTHING = Buffer.alloc(0);

/**
 * One STOMP-over-WebSocket client: the very same StompSession as over TCP, fed by the WebSocket's messages
 * (text or binary alike; the STOMP parser reassembles frames across messages and splits several per message).
 */
export class StompWsConnection {
  readonly session: StompSession;
  private readonly transport: WebSocketTransport;
  private readonly keepalive: Keepalive;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    request: IncomingMessage,
    sessionOptions: StompSessionOptions,
    transportOptions: WebSocketTransportOptions,
    /** WebSocket pings and pongs keep the session alive (see Keepalive); false: STOMP heart-beats only. */
    pingKeepalive: boolean,
    logger: Logger,
    onClose: (connection: StompWsConnection) => void,
  ) {
    const remote = {
      address: request.socket.remoteAddress ?? '',
      port: request.socket.remotePort ?? 0,
      localAddress: request.socket.localAddress ?? '',
      localPort: request.socket.localPort ?? 0,
      certificate: verifiedCertificate(request),
    };
    this.transport = new WebSocketTransport(ws, socket, remote, transportOptions);
    const session = new StompSession(this.transport, sessionOptions);
    this.session = session;
    // The keepalive timer runs for this session alone: a ping that throws ends this session, nothing else.
    this.keepalive = new Keepalive({ ping: () => session.guard(() => ws.ping()) });
    this.transport.onDrained = () => session.drained();
    if (pingKeepalive)
      this.transport.onFirstMessage = (chunks) => this.keepalive.start(clientInterval(chunks));

    ws.on('message', (data: RawData) => {
      this.keepalive.heardFromPeer();
      session.receive(toBuffer(data));
    });
    // A pong (or the client's own ping) is liveness too: fed as an empty chunk, it touches no frame state.
    const alive = (): void => {
      this.keepalive.heardFromPeer();
      session.receive(NOTHING);
    };
    if (pingKeepalive) {
      ws.on('pong', alive);
      ws.on('ping', alive);
    }
    ws.on('error', (err) =>
      logger.debug({ err, client: `${remote.address}:${remote.port}` }, 'WebSocket error'),
    );
    ws.on('close', () => {
      this.keepalive.stop();
      this.transport.closed();
      session.transportClosed();
      onClose(this);
    });
  }

  /** Broker shutdown: the client gets the session's ERROR, then close code 1001. */
  goAway(): void {
    this.transport.goingAway = true;
    this.session.shutdown();
  }
}

/** Over WSS, the client certificate when it verified against the listener's CA (the TCP SocketTransport's rule). */
function verifiedCertificate(request: IncomingMessage): PeerCertificate | undefined {
  const socket = request.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  return { subject: socket.getPeerCertificate().subject };
}

/** ws hands out Buffers (binaryType 'nodebuffer', the default); the other shapes are only for completeness. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
