import type { Channel, DeclaredQueue } from './channel';
import { WarrenError } from './errors';
import type { ExchangeOptions } from './exchanges/exchange';
import type { FieldTable } from './field-table';
import type { QueueOptions } from './queue';
import {
  queueNameFor,
  type QueueOwnerRef,
  type TopologyAuthority,
  type TopologyChange,
} from './topology-authority';

/**
 * A channel's topology operations as claims (see TopologyAuthority): `channel.claims.queueDeclare(...)` is
 * `channel.queueDeclare(...)` for a broker that may be one node of a cluster.
 *
 * Each runs the same local checks as the channel's operation, synchronously, and throws as it would. Without
 * an authority (a single node) it then is that operation: applied now, nothing returned (or the operation's
 * own result), no promise. With one it returns the claim's promise, which settles after the cluster has the
 * change and this channel has applied it locally too (idempotently: the authority applied it here already),
 * with the operation's result.
 */
export class ChannelClaims {
  constructor(private readonly ch: Channel) {}

  private get authority(): TopologyAuthority | undefined {
    return this.ch.vhost.broker.topologyAuthority;
  }

  exchangeDeclare(
    name: string,
    type: string,
    options: ExchangeOptions,
    passive = false,
  ): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.exchangeDeclare(name, type, options, passive);
      return undefined;
    }
    if (!passive) this.ch.access.check('configure', 'exchange', name);
    this.ch.vhost.checkDeclareExchange(name, type, options, passive);
    const change: TopologyChange = {
      kind: 'declare-exchange',
      vhost: this.ch.vhost.name,
      name,
      type,
      durable: options.durable,
      autoDelete: options.autoDelete,
      internal: options.internal,
      arguments: options.arguments,
      passive,
    };
    return this.afterClaim(authority.claim(change), () => {
      this.ch.exchangeDeclare(name, type, options, passive);
    });
  }

  exchangeDelete(name: string, ifUnused = false): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.exchangeDelete(name, ifUnused);
      return undefined;
    }
    this.ch.access.check('configure', 'exchange', name);
    this.ch.vhost.checkDeleteExchange(name, ifUnused);
    const change: TopologyChange = { kind: 'delete-exchange', vhost: this.ch.vhost.name, name, ifUnused };
    return this.afterClaim(authority.claim(change), () => this.ch.exchangeDelete(name, ifUnused));
  }

  /**
   * queue.declare as a claim. The result comes back at once without an authority, else through the promise:
   * a declare-ok needs the queue's counts either way. A server-named queue's name is chosen before the claim.
   */
  queueDeclare(name: string, options: QueueOptions, passive = false): DeclaredQueue | Promise<DeclaredQueue> {
    const authority = this.authority;
    if (authority === undefined) return this.ch.queueDeclare(name, options, passive);
    const queueName = queueNameFor(name, options.arguments, passive);
    this.ch.checkQueueDeclare(queueName, options, passive);
    this.ch.vhost.checkDeclareQueue(queueName, options, this.ch.connection, passive);
    const change: TopologyChange = {
      kind: 'declare-queue',
      vhost: this.ch.vhost.name,
      name: queueName,
      durable: options.durable,
      exclusive: options.exclusive,
      autoDelete: options.autoDelete,
      arguments: options.arguments,
      passive,
      owner: this.ownerRef(),
    };
    return this.afterClaim(authority.claim(change), () => this.ch.queueDeclare(queueName, options, passive));
  }

  /** queue.delete as a claim: the count of dropped messages at once without an authority, else via the promise. */
  queueDelete(queue: string, ifUnused = false, ifEmpty = false): number | Promise<number> {
    const authority = this.authority;
    if (authority === undefined) return this.ch.queueDelete(queue, ifUnused, ifEmpty);
    const name = this.ch.resolveQueue(queue);
    this.ch.access.check('configure', 'queue', name);
    this.ch.vhost.checkDeleteQueue(name, this.ch.connection, ifUnused, ifEmpty);
    const change: TopologyChange = {
      kind: 'delete-queue',
      vhost: this.ch.vhost.name,
      name,
      ifUnused,
      ifEmpty,
      owner: this.ownerRef(),
    };
    const q = this.ch.vhost.queues.get(name);
    // The authority may have applied the delete here already (a cluster's watcher runs before the claim
    // resolves); delete-ok's count is then the one the queue kept.
    return this.afterClaim(authority.claim(change), () =>
      q?.deleted === true ? q.droppedOnDelete : this.ch.queueDelete(name, ifUnused, ifEmpty),
    );
  }

  queueBind(
    queue: string,
    exchange: string,
    routingKey: string,
    args: FieldTable = {},
  ): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.queueBind(queue, exchange, routingKey, args);
      return undefined;
    }
    const name = this.ch.resolveQueue(queue);
    const key = queue === '' && routingKey === '' ? name : routingKey;
    this.ch.access.checkQueueBind(name, exchange, key);
    this.ch.vhost.useQueue(name, this.ch.connection);
    this.ch.vhost.checkBind(exchange, args);
    const change = this.bindingChange('bind', exchange, name, 'queue', key, args);
    return this.afterClaim(authority.claim(change), () => this.ch.queueBind(name, exchange, key, args));
  }

  queueUnbind(
    queue: string,
    exchange: string,
    routingKey: string,
    args: FieldTable = {},
  ): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.queueUnbind(queue, exchange, routingKey, args);
      return undefined;
    }
    const name = this.ch.resolveQueue(queue);
    this.ch.access.checkQueueBind(name, exchange, routingKey);
    this.ch.vhost.useQueue(name, this.ch.connection);
    this.ch.vhost.checkUnbind(exchange);
    const change = this.bindingChange('unbind', exchange, name, 'queue', routingKey, args);
    return this.afterClaim(authority.claim(change), () =>
      this.ch.queueUnbind(name, exchange, routingKey, args),
    );
  }

  exchangeBind(
    destination: string,
    source: string,
    routingKey: string,
    args: FieldTable = {},
  ): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.exchangeBind(destination, source, routingKey, args);
      return undefined;
    }
    this.ch.access.checkExchangeBind(destination, source, routingKey);
    this.ch.vhost.getExchange(destination);
    this.ch.vhost.checkBind(source, args);
    const change = this.bindingChange('bind', source, destination, 'exchange', routingKey, args);
    return this.afterClaim(authority.claim(change), () =>
      this.ch.exchangeBind(destination, source, routingKey, args),
    );
  }

  exchangeUnbind(
    destination: string,
    source: string,
    routingKey: string,
    args: FieldTable = {},
  ): Promise<void> | undefined {
    const authority = this.authority;
    if (authority === undefined) {
      this.ch.exchangeUnbind(destination, source, routingKey, args);
      return undefined;
    }
    this.ch.access.checkExchangeBind(destination, source, routingKey);
    this.ch.vhost.checkUnbind(source);
    const change = this.bindingChange('unbind', source, destination, 'exchange', routingKey, args);
    return this.afterClaim(authority.claim(change), () =>
      this.ch.exchangeUnbind(destination, source, routingKey, args),
    );
  }

  private bindingChange(
    kind: 'bind' | 'unbind',
    source: string,
    destination: string,
    destinationKind: 'queue' | 'exchange',
    routingKey: string,
    args: FieldTable,
  ): TopologyChange {
    return {
      kind,
      vhost: this.ch.vhost.name,
      source,
      destination,
      destinationKind,
      routingKey,
      arguments: args,
    };
  }

  private ownerRef(): QueueOwnerRef {
    return { connection: this.ch.connection.id, node: this.ch.vhost.broker.nodeName };
  }

  /**
   * The local apply once a claim has resolved. A channel closed meanwhile (its connection went) applies
   * nothing: an exclusive queue for a connection that is gone must not appear here.
   */
  private afterClaim<T>(claim: Promise<void>, apply: () => T): Promise<T> {
    return claim.then(() => {
      if (this.ch.closed)
        throw new WarrenError('CHANNEL_ERROR', `channel ${this.ch.id} closed during a topology claim`);
      return apply();
    });
  }
}
