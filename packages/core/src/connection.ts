import { Channel, type ChannelEvents } from './channel';
import type { Queue, QueueOwner } from './queue';
import type { User } from './users';
import type { Vhost } from './vhost';

export interface ConnectionInfo {
  /** 'amqp', 'stomp', 'stomp-ws': shown in the management API. */
  protocol: string;
  remoteAddress: string;
  remotePort: number;
  clientProperties?: Record<string, unknown>;
}

/**
 * A client connection as the core sees it: an authenticated user on a vhost, with channels and the exclusive
 * queues it owns. Closing it closes its channels (requeueing their unacked deliveries) and deletes its
 * exclusive queues.
 */
export class Connection implements QueueOwner {
  readonly channels = new Map<number, Channel>();
  private readonly exclusiveQueues = new Set<Queue>();
  /** False while the socket needs 'drain': queues stop delivering to this connection's consumers. */
  writable = true;
  closed = false;
  readonly connectedAt = Date.now();
  /**
   * Set by the protocol: how a failure raised while the core serves this connection outside its own input
   * handler (a delivery, a confirm, a store callback) ends it. The protocol closes it with its error (AMQP 541,
   * STOMP ERROR); the default closes it without a word.
   */
  onFault: (err: unknown) => void = () => this.close();

  constructor(
    readonly id: number,
    readonly user: User,
    readonly vhost: Vhost,
    readonly info: ConnectionInfo,
    private readonly onClose: (c: Connection) => void,
  ) {}

  openChannel(id: number, events: ChannelEvents): Channel {
    const ch = new Channel(this, id, events);
    this.channels.set(id, ch);
    return ch;
  }

  forgetChannel(ch: Channel): void {
    if (this.channels.get(ch.id) === ch) this.channels.delete(ch.id);
  }

  /**
   * Runs `fn` for this connection from a context that belongs to someone else (another client's publish, a
   * queue timer, a store batch): an exception closes this connection and never reaches the caller.
   */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fault(err);
    }
  }

  /** Reports a failure while serving this connection; a second one during the close is only logged. */
  fault(err: unknown): void {
    this.vhost.broker.counters.connectionFaults++;
    if (this.closed) {
      this.vhost.broker.logger.error({ err, connection: this.id }, 'error on a closed connection');
      return;
    }
    try {
      this.onFault(err);
    } catch (e) {
      // The protocol's own error path failed: the connection still goes, and the first cause is kept.
      this.vhost.broker.logger.error({ err, cause: e, connection: this.id }, 'closing a faulty connection');
      this.close();
    }
  }

  ownQueue(q: Queue): void {
    this.exclusiveQueues.add(q);
  }

  forgetQueue(q: Queue): void {
    this.exclusiveQueues.delete(q);
  }

  /** Exclusive queues this connection holds now (server-named, reply-to, STOMP subscriptions' own). */
  get ownedQueues(): number {
    return this.exclusiveQueues.size;
  }

  /** Socket back-pressure: call with false when write() returns false, with true on 'drain'. */
  setWritable(writable: boolean): void {
    if (this.writable === writable) return;
    this.writable = writable;
    if (writable) for (const ch of this.channels.values()) ch.kick();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ch of [...this.channels.values()]) ch.close();
    for (const q of [...this.exclusiveQueues]) this.vhost.removeQueue(q);
    this.exclusiveQueues.clear();
    this.onClose(this);
  }
}
