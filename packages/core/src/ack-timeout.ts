import type { Connection } from './connection';

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
        connection.guard(() => channel.checkAckTimeout(now, timeoutMs));
      }
    }
  }
}
