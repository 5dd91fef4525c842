/**
 * What a STOMP session needs from the connection under it. The TCP listener implements it over a net.Socket;
 * @warren/stomp-ws implements it over a WebSocket, so both run the very same session.
 *
 * The session writes each frame as a chunk list between cork() and uncork() (DESIGN §2: a MESSAGE is
 * [head, shared header block, body, NUL], the body never copied into a joined buffer). A WebSocket transport
 * sends what was written between cork() and uncork() as one WebSocket message.
 *
 * The owner of the transport feeds the session: `session.receive(chunk)` for every chunk read,
 * `session.drained()` when a write that returned false has been flushed, `session.transportClosed()` once the
 * connection is gone (whoever closed it).
 */
export interface Transport {
  /** 'stomp' or 'stomp-ws': the protocol shown in the management API. */
  readonly protocol: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  cork(): void;
  uncork(): void;
  /** Queues one chunk; false once the peer is slow and the session should stop delivering until drained(). */
  write(chunk: Buffer): boolean;
  /** Closes after everything written so far is flushed (DISCONNECT, after an ERROR). */
  end(): void;
  /** Closes at once, dropping unsent data (a peer that stopped heart-beating, broker shutdown). */
  destroy(): void;
  /** Stops reading from the peer (a publisher blocked by a resource alarm); writes carry on. */
  pauseReading(): void;
  resumeReading(): void;
}
