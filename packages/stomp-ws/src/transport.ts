import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { PeerCertificate } from '@warren/core';
import type { Transport } from '@warren/stomp';
import { WebSocket } from 'ws';

export interface WebSocketTransportOptions {
  /** ws.bufferedAmount past which write() reports back-pressure (core limits.maxOutboundBytes). */
  maxOutboundBytes: number;
  /** Every frame as a binary WebSocket message (RabbitMQ's `web_stomp.ws_frame = binary`). */
  binaryFrames: boolean;
}

/**
 * Messages up to this size are joined into one buffer before sending: one small copy is cheaper than a
 * WebSocket frame header and a socket write per chunk. Larger ones go out as WebSocket fragments of one message
 * (RFC 6455 §5.4), so a big body is never copied.
 */
const JOIN_LIMIT = 64 * 1024;
/** While blocked, how often bufferedAmount is checked when no socket 'drain' comes (a deflate backlog). */
const DRAIN_POLL_MS = 20;
/** How long a peer has to answer our close frame before its socket is destroyed. */
const CLOSE_HANDSHAKE_MS = 2000;

/** RabbitMQ's Web-STOMP closes every connection it ends with 1000 and this reason (after ERROR, DISCONNECT…). */
export const CLOSE_NORMAL = { code: 1000, reason: 'STOMP died' } as const;
/** Broker shutdown: RFC 6455 §7.4.1 "going away". */
export const CLOSE_GOING_AWAY = { code: 1001, reason: 'Broker shutdown' } as const;

/**
 * A STOMP session's transport over one WebSocket. What the session writes between cork() and uncork() (one STOMP
 * frame) leaves as one WebSocket message: text, as RabbitMQ sends, unless a chunk is not valid UTF-8 (a binary
 * body, which a text message would corrupt and browsers would reject with 1007) or binaryFrames is set.
 */
export class WebSocketTransport implements Transport {
  readonly protocol = 'stomp-ws';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The session's drained(): called once the backlog that made write() return false has shrunk. */
  onDrained: () => void = () => {};
  /** Sees the first message the session writes (CONNECTED or ERROR), before it is sent. */
  onFirstMessage: ((chunks: readonly Buffer[]) => void) | undefined = undefined;
  /** Set by the listener at shutdown: the close then says 1001 instead of RabbitMQ's 1000. */
  goingAway = false;

  private corked = 0;
  /** The chunks of the frame being written; reused, since ws keeps the buffers, not the array. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private blocked = false;
  private pollTimer: NodeJS.Timeout | undefined = undefined;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  private readonly maxOutbound: number;
  private readonly binaryFrames: boolean;
  private readonly certificate: PeerCertificate | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket under ws: its 'drain' ends back-pressure at once instead of at the next poll. */
    private readonly socket: Duplex,
    /** certificate: the verified client certificate of a WSS connection. */
    remote: {
      address: string;
      port: number;
      localAddress?: string;
      localPort?: number;
      certificate?: PeerCertificate | undefined;
    },
    options: WebSocketTransportOptions,
  ) {
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.localAddress = remote.localAddress ?? '';
    this.localPort = remote.localPort ?? 0;
    this.certificate = remote.certificate;
    this.maxOutbound = options.maxOutboundBytes;
    this.binaryFrames = options.binaryFrames;
    socket.on('drain', this.checkDrained);
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0 || --this.corked > 0) return;
    if (this.pending.length > 0) this.send(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  write(chunk: Buffer): boolean {
    if (this.corked > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return this.hasRoom(this.pendingBytes);
    }
    // Outside cork() (a heart-beat EOL) a chunk is a message of its own.
    this.send([chunk], chunk.length);
    return this.hasRoom(0);
  }

  end(): void {
    this.close();
  }

  destroy(): void {
    // RabbitMQ's Web-STOMP says why even when it drops a peer (a missed heart-beat); the timer in close()
    // makes sure a peer that never answers is gone soon anyway.
    this.close();
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  peerCertificate(): PeerCertificate | undefined {
    return this.certificate;
  }

  /** The WebSocket is closed: stop every timer. */
  closed(): void {
    this.blocked = false;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.pollTimer = undefined;
    this.closeTimer = undefined;
    this.socket.off('drain', this.checkDrained);
  }

  private close(): void {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const how = this.goingAway ? CLOSE_GOING_AWAY : CLOSE_NORMAL;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(how.code, how.reason);
    this.closeTimer ??= setTimeout(() => this.ws.terminate(), CLOSE_HANDSHAKE_MS);
  }

  private send(chunks: Buffer[], bytes: number): void {
    if (this.onFirstMessage !== undefined) {
      const first = this.onFirstMessage;
      this.onFirstMessage = undefined;
      first(chunks);
    }
    if (this.ws.readyState !== WebSocket.OPEN) return;
    // One STOMP frame stays one WebSocket message, but the messages of one tick leave in one socket write:
    // the raw socket is corked at the first and uncorked once this tick's work is done.
    if (!this.socketCorked) {
      this.socketCorked = true;
      this.socket.cork();
      process.nextTick(this.uncorkSocket);
    }
    const binary = this.binaryFrames || !chunks.every((c) => isUtf8(c));
    const only = chunks.length === 1 ? chunks[0] : undefined;
    if (only !== undefined) {
      this.ws.send(only, { binary });
    } else if (bytes <= JOIN_LIMIT) {
      this.ws.send(Buffer.concat(chunks, bytes), { binary });
    } else {
      const parts = chunks.filter((c) => c.length > 0);
      const last = parts.length - 1;
      parts.forEach((part, i) => this.ws.send(part, { binary, fin: i === last }));
    }
  }

  private socketCorked = false;
  private readonly uncorkSocket = (): void => {
    this.socketCorked = false;
    this.socket.uncork();
  };

  private hasRoom(unsent: number): boolean {
    if (this.ws.bufferedAmount + unsent <= this.maxOutbound) return true;
    if (!this.blocked && this.ws.readyState === WebSocket.OPEN) {
      this.blocked = true;
      this.pollTimer = setInterval(this.checkDrained, DRAIN_POLL_MS);
      this.pollTimer.unref();
    }
    return false;
  }

  /** Resumes deliveries at half the limit, so the socket keeps a backlog to send while the broker refills it. */
  private readonly checkDrained = (): void => {
    if (!this.blocked || this.ws.bufferedAmount > this.maxOutbound >> 1) return;
    this.blocked = false;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.onDrained();
  };
}
