import type { Broker, Channel, Message, QueueEntry, User } from '@warren/core';

/**
 * A channel of the API's own, as RabbitMQ's management plugin opens a direct connection for publish, get and
 * the aliveness test: the caller's user on the vhost, so permissions are checked exactly as for a client.
 * It lives for one request and is closed whatever happens (its unacked messages go back to their queues).
 */
export class DirectChannel {
  private unroutable = false;

  constructor(readonly channel: Channel) {}

  queueDeclare(...args: Parameters<Channel['queueDeclare']>): void {
    this.channel.queueDeclare(...args);
  }

  /** Publishes with mandatory set; true when the message reached a queue (RabbitMQ's `routed`). */
  publish(exchange: string, msg: Message): boolean {
    this.unroutable = false;
    this.channel.publish(exchange, msg, true);
    return !this.unroutable;
  }

  /** basic.get with acknowledgement: the entry stays unacked on this channel until settled. */
  getOne(queue: string): Promise<QueueEntry | undefined> {
    return new Promise((resolve) => this.channel.get(queue, false, (result) => resolve(result?.delivery)));
  }

  returned(): void {
    this.unroutable = true;
  }
}

export async function withChannel<T>(
  broker: Broker,
  user: User,
  vhost: string,
  work: (ch: DirectChannel) => Promise<T> | T,
): Promise<T> {
  const connection = broker.connect(user, vhost, { protocol: 'direct', remoteAddress: '', remotePort: 0 });
  try {
    let direct: DirectChannel | undefined = undefined;
    const channel = connection.openChannel(1, {
      returned: () => direct?.returned(),
      confirmed: () => {},
    });
    direct = new DirectChannel(channel);
    return await work(direct);
  } finally {
    connection.close();
  }
}
