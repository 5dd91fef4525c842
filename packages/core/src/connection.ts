import { Channel, type ChannelEvents } from './channel';
import { WarrenError } from './errors';
import type { ProtocolCounters } from './metrics';
import type { Queue, QueueOwner } from './queue';
import type { User } from './users';
import type { Vhost } from './vhost';

export interface ConnectionInfo {
  /** 'amqp', 'stomp', 'stomp-ws': shown in the management API. */
  protocol: string;
  remoteAddress: string;
  remotePort: number;
  /** The broker's end of the socket: the listener's address and port ('' and 0 over an in-memory transport). */
  localAddress?: string;
  localPort?: number;
  clientProperties?: Record<string, unknown>;
}

/**
 * Per-connection totals for the management API. Octets and counts are of transport reads and writes (RabbitMQ's
 * recv_oct, recv_cnt, send_oct, send_cnt); messages are publishes and deliveries over all its channels.
 */
export interface ConnectionStats {
  recvOct: number;
  recvCnt: number;
  sendOct: number;
  sendCnt: number;
  published: number;
  delivered: number;
}

/** The reason RabbitMQ's management UI gives when an operator closes a connection. */
export const MANAGEMENT_CLOSE_REASON = 'Closed via management plugin';

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
  readonly stats: ConnectionStats = {
    recvOct: 0,
    recvCnt: 0,
    sendOct: 0,
    sendCnt: 0,
    published: 0,
    delivered: 0,
  };
  /** RabbitMQ's connection name, "127.0.0.1:54321 -> 127.0.0.1:5672": how operators find and close it. */
  readonly name: string;
  /** The totals this connection's channels add to: its protocol's, shared with the protocol's other connections. */
  readonly counters: ProtocolCounters;
  /**
   * Set by the protocol: how a failure raised while the core serves this connection outside its own input
   * handler (a delivery, a confirm, a store callback) ends it. The protocol closes it with its error (AMQP 541,
   * STOMP ERROR); the default closes it without a word.
   */
  onFault: (err: unknown) => void = () => this.close();
  /**
   * Set by the protocol: how an operator's close reaches the client. AMQP sends connection.close with the
   * error's 320 CONNECTION_FORCED; STOMP an ERROR frame. The default closes it without a word.
   */
  onForcedClose: (err: WarrenError) => void = () => this.close();

  constructor(
    readonly id: number,
    readonly user: User,
    readonly vhost: Vhost,
    readonly info: ConnectionInfo,
    private readonly onClose: (c: Connection) => void,
  ) {
    const local = endpoint(info.localAddress ?? '', info.localPort ?? 0);
    this.name = `${endpoint(info.remoteAddress, info.remotePort)} -> ${local}`;
    this.counters = vhost.broker.protocolCounters(info.protocol);
  }

  /**
   * Closes the connection on an operator's behalf (the management API, a deleted user or vhost), as RabbitMQ
   * does: the client is told 320 CONNECTION_FORCED with "CONNECTION_FORCED - <reason>".
   */
  forceClose(reason: string = MANAGEMENT_CLOSE_REASON): void {
    if (this.closed) return;
    this.guard(() => this.onForcedClose(new WarrenError('CONNECTION_FORCED', reason)));
  }

  openChannel(id: number, events: ChannelEvents): Channel {
    const ch = new Channel(this, id, events);
    this.channels.set(id, ch);
    this.vhost.broker.churn.channelsOpened++;
    return ch;
  }

  forgetChannel(ch: Channel): void {
    this.vhost.broker.churn.channelsClosed++;
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

/** An address and port as RabbitMQ writes them: IPv4-mapped IPv6 as IPv4, other IPv6 in brackets. */
function endpoint(address: string, port: number): string {
  const v4 = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return `${v4.includes(':') ? `[${v4}]` : v4}:${port}`;
}
