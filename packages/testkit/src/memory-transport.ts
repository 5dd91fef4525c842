import type { Transport, TransportSession } from '@warren/core';

/**
 * A Transport in memory, for in-process sessions (DESIGN §7, layer 3) and the fuzzers: it records what the
 * session writes and lets a test play a slow, silent or vanished peer. No socket, no event loop hop: bytes given
 * to `deliver` reach the session synchronously, as a socket's 'data' event would.
 */
export class MemoryTransport implements Transport {
  readonly chunks: Buffer[] = [];
  corked = 0;
  ended = false;
  destroyed = false;
  /** What write() returns: false plays a peer whose socket buffer is full. */
  writable = true;
  /** Whether the session asked to stop reading (a resource alarm). */
  paused = false;
  /** Bytes written so far (kept even when `keep` is false). */
  written = 0;
  onWrite: ((chunk: Buffer) => void) | undefined = undefined;
  private session: TransportSession | undefined = undefined;
  private gone = false;

  constructor(
    readonly protocol = 'test',
    readonly remoteAddress = '127.0.0.1',
    readonly remotePort = 40000,
    /** False: count written bytes without keeping them (long fuzz runs). */
    private readonly keep = true,
  ) {}

  /** The session this transport feeds. */
  attach(session: TransportSession): this {
    this.session = session;
    return this;
  }

  /** Bytes from the peer, handed to the session at once. */
  deliver(chunk: Buffer): void {
    if (this.gone) return;
    this.session?.receive(chunk);
  }

  /** The peer read everything: a write that returned false is flushed. */
  drain(): void {
    this.writable = true;
    if (!this.gone) this.session?.drained();
  }

  /** The connection is gone (the peer vanished, or after end/destroy): the session is told once. */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    this.session?.transportClosed();
  }

  get closed(): boolean {
    return this.ended || this.destroyed;
  }

  /** Everything written so far, joined. */
  output(): Buffer {
    return Buffer.concat(this.chunks);
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    this.corked--;
  }

  write(chunk: Buffer): boolean {
    this.written += chunk.length;
    if (this.keep) this.chunks.push(chunk);
    this.onWrite?.(chunk);
    return this.writable;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
  }
}
