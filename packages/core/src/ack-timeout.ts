import type { Channel } from './channel';
import type { Connection } from './connection';
import { WarrenError } from './errors';
import type { QueueEntry } from './queue-entry';

/** Per channel: the oldest unacked delivery the last sweep saw, its tag then, and since when. */
interface Oldest {
  entry: QueueEntry;
  tag: number;
  since: number;
}

/**
 * RabbitMQ's consumer_timeout: a channel holding a delivery unacknowledged for longer than the timeout is
 * closed with PRECONDITION_FAILED, and its unacked deliveries go back to their queues for other consumers.
 *
 * One timer for the whole broker sweeps every channel; nothing is recorded per delivery. A channel's oldest
 * unacked delivery is the first of its `unacked` map (tags only grow; a redelivery gets a new tag), so each
 * sweep remembers, per channel, which delivery was oldest and since when it has been seen so: still the oldest
 * a timeout later means unacked for at least that long. A delivery is caught between one timeout and one
 * timeout plus a sweep interval (half the timeout, at most a minute: RabbitMQ checks on its one-minute channel
 * tick) after it went out.
 */
export class AckTimeouts {
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly oldest = new WeakMap<Channel, Oldest>();

  constructor(
    private readonly connections: ReadonlyMap<number, Connection>,
    private readonly now: () => number,
  ) {}

  start(timeoutMs: number): void {
    if (timeoutMs <= 0 || this.timer !== undefined) return;
    const interval = Math.min(60_000, Math.max(10, Math.floor(timeoutMs / 2)));
    this.timer = setInterval(() => this.sweep(timeoutMs), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(timeoutMs: number): void {
    const now = this.now();
    for (const connection of [...this.connections.values()]) {
      // Each check runs for its own connection: one that fails ends that connection, never the sweep.
      for (const channel of [...connection.channels.values()]) {
        connection.guard(() => this.check(channel, now, timeoutMs));
      }
    }
  }

  private check(channel: Channel, now: number, timeoutMs: number): void {
    const first = channel.unacked.values().next().value as QueueEntry | undefined;
    const seen = this.oldest.get(channel);
    if (first === undefined) {
      if (seen !== undefined) this.oldest.delete(channel);
      return;
    }
    if (seen === undefined || seen.entry !== first || seen.tag !== first.tag) {
      this.oldest.set(channel, { entry: first, tag: first.tag, since: now });
      return;
    }
    if (now - seen.since < timeoutMs || channel.closed) return;
    this.oldest.delete(channel);
    channel.vhost.broker.logger.warn(
      { connection: channel.connection.id, channel: channel.id, consumer: first.consumer?.tag, timeoutMs },
      'consumer timed out waiting for delivery acknowledgement',
    );
    channel.closeByBroker(
      new WarrenError(
        'PRECONDITION_FAILED',
        `delivery acknowledgement on channel ${channel.id} timed out. Timeout value used: ${timeoutMs} ms. ` +
          'This timeout value can be configured, see consumers doc guide to learn more',
      ),
    );
  }
}
