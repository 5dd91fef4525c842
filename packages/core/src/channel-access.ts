import { WarrenError } from './errors';
import type { PermissionKind, TopicPermissions, UserRegistry } from './users';
import type { Vhost } from './vhost';

/**
 * What one channel's user may do in its vhost: RabbitMQ's configure / write / read permissions on queues and
 * exchanges, topic permissions on topic exchanges' routing and binding keys, and the validated user-id. Checked
 * at every operation, so a permission changed while the broker runs applies at the next one; the publish path,
 * hot, remembers the last exchange it allowed until the users' version moves.
 */
export class ChannelAccess {
  private writeAllowed: string | undefined = undefined;
  /** The users' version the two caches were taken at. */
  private version = -1;
  /** This user's topic permissions on the vhost; undefined (the common case) when there are none. */
  private topicPermissions: TopicPermissions | undefined = undefined;

  constructor(
    private readonly user: string,
    private readonly vhost: Vhost,
  ) {}

  private get users(): UserRegistry {
    return this.vhost.broker.users;
  }

  check(kind: PermissionKind, resource: 'queue' | 'exchange', name: string): void {
    this.users.check(this.user, this.vhost.name, kind, resource, name);
  }

  /** A publish: write on the exchange, and the topic write pattern on its routing key. */
  checkPublish(exchange: string, routingKey: string): void {
    const users = this.users;
    if (users.version !== this.version) {
      this.version = users.version;
      this.writeAllowed = undefined;
      this.topicPermissions = users.topicPermissionsFor(this.user, this.vhost.name);
    }
    if (exchange !== this.writeAllowed) {
      this.check('write', 'exchange', exchange);
      this.writeAllowed = exchange;
    }
    if (this.topicPermissions !== undefined)
      this.checkTopic(this.topicPermissions, 'write', exchange, routingKey);
  }

  /** queue.bind and queue.unbind: write on the queue, read on the exchange, and its topic read pattern. */
  checkQueueBind(queue: string, exchange: string, routingKey: string): void {
    this.check('write', 'queue', queue);
    this.check('read', 'exchange', exchange);
    this.checkTopicRead(exchange, routingKey);
  }

  /** exchange.bind and exchange.unbind: write on the destination, read on the source, and its topic pattern. */
  checkExchangeBind(destination: string, source: string, routingKey: string): void {
    this.check('write', 'exchange', destination);
    this.check('read', 'exchange', source);
    this.checkTopicRead(source, routingKey);
  }

  /** A bind or unbind on a topic exchange: RabbitMQ checks the binding key against the topic read pattern. */
  checkTopicRead(exchange: string, bindingKey: string): void {
    const topics = this.users.topicPermissionsFor(this.user, this.vhost.name);
    if (topics !== undefined) this.checkTopic(topics, 'read', exchange, bindingKey);
  }

  /**
   * RabbitMQ's validated user-id: a message may name as user_id only the user who publishes it, so consumers
   * can trust the property. PRECONDITION_FAILED otherwise.
   */
  checkUserId(userId: string | undefined): void {
    if (userId !== undefined && userId !== this.user) {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `user_id property set to '${userId}' but authenticated user was '${this.user}'`,
      );
    }
  }

  /** Topic permissions apply to topic exchanges only (RabbitMQ's rule); other types are not checked. */
  private checkTopic(topics: TopicPermissions, kind: 'write' | 'read', exchange: string, key: string): void {
    if (this.vhost.exchanges.get(exchange)?.type !== 'topic') return;
    this.users.checkTopic(topics, this.user, this.vhost.name, kind, exchange, key);
  }
}
