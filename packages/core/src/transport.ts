/**
 * What a protocol session needs from the byte stream under it. A session never sees a socket: the TCP
 * listeners hand it a SocketTransport, @warren/stomp-ws a WebSocket, and tests and fuzzers an in-memory pair, so
 * the very same session code runs over each (DESIGN §7, layer 3).
 *
 * The session writes each burst as a chunk list between cork() and uncork() (DESIGN §2: a body is never copied
 * into a joined buffer). A message transport (WebSocket) sends what was written between cork() and uncork() as
 * one message.
 *
 * The owner of the transport feeds the session: `receive(chunk)` for every chunk read, `drained()` when a write
 * that returned false has been flushed, `transportClosed()` once the connection is gone (whoever closed it).
 */
export interface Transport {
  /** 'amqp', 'stomp', 'stomp-ws': the protocol shown in logs and the management API. */
  readonly protocol: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The broker's end (the listener's address and port), for the connection's name; absent in memory. */
  readonly localAddress?: string;
  readonly localPort?: number;
  cork(): void;
  uncork(): void;
  /** Queues one chunk; false once the peer is slow and the session should stop delivering until drained(). */
  write(chunk: Buffer): boolean;
  /** Closes after everything written so far is flushed (a close handshake, DISCONNECT, after an ERROR). */
  end(): void;
  /** Closes at once, dropping unsent data (a silent peer, broker shutdown, a close handshake timed out). */
  destroy(): void;
  /** Stops reading from the peer (a publisher blocked by a resource alarm); writes carry on. */
  pauseReading(): void;
  resumeReading(): void;
  /**
   * Over TLS, the client certificate when the peer presented one and it verified against the listener's CA;
   * undefined otherwise (no TLS, no certificate, or one that did not verify). What EXTERNAL and STOMP's
   * ssl_cert_login log in with. Transports that never carry TLS leave it out.
   */
  peerCertificate?(): PeerCertificate | undefined;
}

/** A verified client certificate, as far as logging in needs it. */
export interface PeerCertificate {
  /** The subject's common name, as node:tls reports it: an array when the subject has several. */
  readonly subject: { readonly CN?: string | readonly string[] | undefined };
}

/**
 * The user a verified client certificate logs in as: its subject's CN (RabbitMQ's ssl_cert_login_from =
 * common_name). undefined without a verified certificate, or when the subject has no CN or several.
 */
export function certificateUser(transport: Transport): string | undefined {
  const cn = transport.peerCertificate?.()?.subject.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** The session side of a transport: what its owner calls as bytes and events arrive. */
export interface TransportSession {
  receive(chunk: Buffer): void;
  drained(): void;
  transportClosed(): void;
}

/**
 * The subset of node:net's Socket a SocketTransport drives, named structurally so that the core opens no socket
 * and imports no networking module: a tls.TLSSocket fits as well.
 */
export interface DuplexSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(): void;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** A tls.TLSSocket's: whether the peer's certificate verified against the CA the server was given. */
  readonly authorized?: boolean;
  getPeerCertificate?(): { readonly subject?: PeerCertificate['subject'] };
}

/**
 * A session's transport over a TCP (or TLS) socket, and the wiring of the socket's events into the session.
 * Every protocol's listener uses this one adapter. Back-pressure comes from the socket's own highWaterMark:
 * listeners create their server with highWaterMark = limits.maxOutboundBytes (DESIGN §6), so write() turns
 * false once that much is queued for the peer.
 */
export class SocketTransport implements Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  constructor(
    readonly protocol: string,
    private readonly socket: DuplexSocket,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
  }

  /**
   * Feeds `session` from the socket. `onError` hears socket errors (a reset peer: logged at debug by the
   * listeners, never thrown); `onClosed` runs after the session has been told.
   */
  attach(session: TransportSession, onError: (err: Error) => void, onClosed?: () => void): void {
    const s = this.socket;
    s.on('data', (chunk) => session.receive(chunk));
    s.on('drain', () => session.drained());
    s.on('error', onError);
    s.on('close', () => {
      session.transportClosed();
      onClosed?.();
    });
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  cork(): void {
    this.socket.cork();
  }

  /**
   * Ends a burst, but the socket's own uncork waits for the end of this tick (process.nextTick): every burst
   * of one tick leaves in one writev. A read chunk of 50 STOMP SENDs then costs each consumer one syscall,
   * not 50 (the per-frame writev was 89% of the broker's time delivering 16 B STOMP messages one to one).
   */
  uncork(): void {
    if (this.flushDue) {
      this.socket.uncork();
      return;
    }
    this.flushDue = true;
    process.nextTick(this.flush);
  }

  /** Whether this tick's deferred uncork is scheduled: the socket is corked once more than its bursts. */
  private flushDue = false;
  private readonly flush = (): void => {
    this.flushDue = false;
    this.socket.uncork();
  };

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  peerCertificate(): PeerCertificate | undefined {
    const s = this.socket;
    // A server asked for a certificate sets `authorized` only once one verified; without one it is a plain peer.
    const subject = s.authorized === true ? s.getPeerCertificate?.().subject : undefined;
    return subject === undefined ? undefined : { subject };
  }
}
