import { AckTimeouts } from './ack-timeout';
import { Connection, type ConnectionInfo } from './connection';
import { AccessRefused, WarrenError } from './errors';
import type { Exchange } from './exchanges/exchange';
import { resolveLimits, type Limits } from './limits';
import { silentLogger, type Logger } from './logger';
import { ResourceAlarms } from './alarms';
import { MemoryMonitor, type MemoryProbe } from './memory-monitor';
import { MemoryStore } from './memory-store';
import { Message } from './message';
import { ProtocolCounters, type ChurnCounters, type DeadLetterCounters } from './metrics';
import { Persistence } from './persistence';
import type { Queue, QueueOptions, QueueOwner } from './queue';
import type { QueueSettings } from './queue-arguments';
import {
  claimImportDefinitions,
  exportDefinitions,
  importDefinitions,
  type Definitions,
} from './definitions';
import { queueKey, type MessageStore, type TopologyRecord, type VhostMetadata } from './store';
import { StreamQueue } from './stream-queue';
import { isHashingAlgorithm, UserRegistry, type RegistryChange, type User } from './users';
import type { TopologyAuthority, TopologyChange } from './topology-authority';
import { Vhost } from './vhost';

export interface BrokerOptions {
  limits?: Partial<Limits>;
  /** Where durable state lives; an in-memory store when omitted. */
  store?: MessageStore;
  logger?: Logger;
  /**
   * Created when the store is empty, with its vhost (default '/', always created too), tags (default
   * administrator) and permissions on that vhost (default all); null for no user.
   */
  defaultUser?: DefaultUserOptions | null;
  /** Users that may connect only from loopback addresses (RabbitMQ's loopback_users). */
  loopbackUsers?: string[];
  /** Milliseconds since the epoch; replaceable for tests. */
  clock?: () => number;
  /** How the memory alarm reads the process's memory; replaceable for tests. */
  memoryProbe?: MemoryProbe;
  /** Warren's release, for what the broker reports about itself (a definitions export's product_version). */
  productVersion?: string;
  /** This node's name in a cluster (named in an exclusive queue's claim); undefined on a single node. */
  nodeName?: string;
}

export interface DefaultUserOptions {
  name: string;
  password: string;
  vhost?: string;
  tags?: string[];
  permissions?: { configure: string; write: string; read: string };
}

export const DEFAULT_VHOST = '/';

/** Counts of the failures the broker contained rather than let spread (see docs/fault-isolation.md). */
export interface BrokerCounters {
  /** Connections closed because serving them threw outside their own input handler. */
  connectionFaults: number;
  /** Deliveries whose sink threw: the message was rejected (dead-lettered or dropped). */
  deliveryFailures: number;
  /** Queue timers and deferred dispatches that threw (logged; the queue carries on). */
  queueTimerFaults: number;
  /** Store-batch and alarm callbacks that threw past their own guard. */
  callbackFaults: number;
  /** Messages a protocol could not translate for one subscriber (dead-lettered or dropped). */
  untranslatable: number;
}
/**
 * Message totals since the broker started, for the management API's overview: counted as they happen (a plain
 * increment next to the channel's own), so they survive the channels and connections that made them.
 */
export interface BrokerStats {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
}

/**
 * Makes a vhost's queue where something other than this process keeps its messages (a cluster's replicated
 * queue or stream), or returns undefined for the local kind.
 */
export type QueueFactory = (
  host: Vhost,
  name: string,
  options: QueueOptions,
  settings: QueueSettings,
  owner: QueueOwner | undefined,
) => Queue | undefined;

const ALL: { configure: string; write: string; read: string } = { configure: '.*', write: '.*', read: '.*' };

/** The root of the routing core: vhosts, users, connections, the store and the resource alarms. */
export class Broker {
  readonly limits: Limits;
  readonly users: UserRegistry;
  readonly vhosts = new Map<string, Vhost>();
  readonly connections = new Map<number, Connection>();
  readonly persistence: Persistence;
  readonly memory: MemoryMonitor;
  /** Memory and disk alarms: publishers are blocked while any is raised. */
  readonly alarms: ResourceAlarms;
  /** Failures contained by the fault guards (docs/fault-isolation.md), for logs, tests and metrics. */
  readonly counters: BrokerCounters = {
    connectionFaults: 0,
    deliveryFailures: 0,
    queueTimerFaults: 0,
    callbackFaults: 0,
    untranslatable: 0,
  };
  readonly stats: BrokerStats = { published: 0, delivered: 0, acked: 0, redelivered: 0 };
  /** Message totals per protocol (ConnectionInfo.protocol), for the Prometheus endpoint. */
  readonly protocols = new Map<string, ProtocolCounters>();
  readonly churn: ChurnCounters = {
    connectionsOpened: 0,
    connectionsClosed: 0,
    channelsOpened: 0,
    channelsClosed: 0,
  };
  readonly deadLettered: DeadLetterCounters = {
    atMostOnce: { expired: 0, maxlen: 0, rejected: 0, delivery_limit: 0 },
    disabled: { expired: 0, maxlen: 0, rejected: 0, delivery_limit: 0 },
  };
  readonly logger: Logger;
  readonly now: () => number;
  readonly productVersion: string;
  /** Where new queues come from when not from here (a cluster node's); undefined: every queue is local. */
  queueFactory: QueueFactory | undefined = undefined;
  /**
   * A queue the default exchange routes to that this node does not hold but another node of its cluster does
   * (a direct reply-to queue, whose name says its node); undefined on a single node.
   */
  queueElsewhere: ((vhost: Vhost, name: string) => Queue | undefined) | undefined = undefined;
  readonly nodeName: string | undefined;
  /**
   * The cluster's say over topology (see TopologyAuthority): installed by a clustering package, undefined on a
   * single node, where every topology change applies synchronously as it always has.
   */
  topologyAuthority: TopologyAuthority | undefined = undefined;
  private readonly store: MessageStore;
  private messageSeq = 0;
  private connectionSeq = 0;
  private started = false;
  private closed = false;
  private readonly ackTimeouts: AckTimeouts;

  constructor(private readonly options: BrokerOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.logger = options.logger ?? silentLogger;
    this.now = options.clock ?? Date.now;
    this.productVersion = options.productVersion ?? '';
    this.nodeName = options.nodeName;
    this.store = options.store ?? new MemoryStore();
    this.ackTimeouts = new AckTimeouts(this.connections, this.now);
    const callbackFailed = (err: unknown): void => {
      this.counters.callbackFaults++;
      this.logger.error({ err }, 'a callback for one client threw; the others carry on');
    };
    this.alarms = new ResourceAlarms(callbackFailed);
    this.persistence = new Persistence(this.store, callbackFailed);
    const l = this.limits;
    this.memory = new MemoryMonitor(
      { bodies: l.memoryHighWatermark, vm: l.vmMemoryHighWatermark, heap: l.heapHighWatermark },
      this.alarms,
      options.memoryProbe,
      this.logger,
    );
    this.users = new UserRegistry(options.loopbackUsers ?? ['guest']);
  }

  /**
   * Claims `change` from the topology authority: its promise, or undefined without an authority (the caller
   * applies the change itself, synchronously, as on any single node).
   */
  topologyClaim(change: TopologyChange): Promise<void> | undefined {
    return this.topologyAuthority?.claim(change);
  }

  /** Restores durable state from the store; resolves before any listener should open. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // A store that can read messages back leaves each durable queue's backlog past its budget on disk;
    // a budget of 0 means queues never page, so everything is loaded.
    const budget = this.limits.queueResidentBytes;
    const state = await this.store.recover(
      this.persistence.canPage && budget > 0 ? { residentBytes: budget, pagedTails: true } : {},
    );
    this.messageSeq = state.maxMessageId;
    if (state.topology.length === 0) {
      this.users.onChange = (change) => this.persistChange(change);
      this.addVhost(DEFAULT_VHOST);
      const def =
        this.options.defaultUser === undefined
          ? { name: 'guest', password: 'guest' }
          : this.options.defaultUser;
      if (def !== null) {
        const vhost = def.vhost ?? DEFAULT_VHOST;
        if (vhost !== DEFAULT_VHOST) this.addVhost(vhost);
        this.users.add(def.name, def.password, def.tags ?? ['administrator']);
        this.users.setPermissions(def.name, vhost, def.permissions ?? ALL);
      }
    } else {
      this.restoreTopology(state.topology);
      this.users.onChange = (change) => this.persistChange(change);
    }
    let restored = 0;
    let paged = 0;
    const shared = new Map<number, Message>();
    for (const [key, list] of state.messages) {
      const queue = this.findQueueByKey(key);
      if (queue === undefined) continue;
      for (const r of list) {
        restored++;
        if (r.message === undefined) {
          queue.restorePaged(r.id, r.size, r.priority, r.delivered);
          paged++;
          continue;
        }
        const msg = shared.get(r.id) ?? Message.fromStored(r.message);
        shared.set(r.id, msg);
        queue.restore(msg, r.delivered);
      }
      const tail = state.pagedTails?.get(key);
      if (tail === undefined) continue;
      const { ids, sizes, priorities, delivered } = tail;
      for (let i = 0; i < ids.length; i++) {
        queue.restorePaged(ids[i] as number, sizes[i] as number, priorities[i] as number, delivered[i] === 1);
      }
      restored += ids.length;
      paged += ids.length;
    }
    for (const v of this.vhosts.values()) {
      for (const q of v.queues.values()) if (q instanceof StreamQueue) q.recovered();
    }
    this.logger.info({ vhosts: this.vhosts.size, messages: restored, paged }, 'broker state restored');
    this.memory.start(this.limits.memoryCheckIntervalMs);
    this.ackTimeouts.start(this.limits.consumerTimeoutMs);
  }

  /** The shared totals of a protocol's connections: looked up once per connection, never per message. */
  protocolCounters(protocol: string): ProtocolCounters {
    let counters = this.protocols.get(protocol);
    if (counters === undefined) {
      counters = new ProtocolCounters();
      this.protocols.set(protocol, counters);
    }
    return counters;
  }

  nextMessageId(): number {
    return ++this.messageSeq;
  }

  getVhost(name: string): Vhost | undefined {
    return this.vhosts.get(name);
  }

  /** Creates a vhost, or updates the metadata of an existing one when `metadata` is given. */
  addVhost(name: string, metadata?: Partial<VhostMetadata>): Vhost {
    let v = this.vhosts.get(name);
    if (v !== undefined && metadata === undefined) return v;
    if (v === undefined) {
      v = new Vhost(this, name);
      this.vhosts.set(name, v);
    }
    if (metadata !== undefined) v.metadata = { ...v.metadata, ...metadata };
    this.persistence.put({ kind: 'vhost', name, ...v.metadata });
    return v;
  }

  /**
   * Deletes a vhost with everything in it, and every permission on it. Its connections are closed first, with
   * RabbitMQ's reason: 320 "CONNECTION_FORCED - vhost 'v' is deleted".
   */
  deleteVhost(name: string): boolean {
    const v = this.vhosts.get(name);
    if (v === undefined) return false;
    this.forceCloseWhere((c) => c.vhost === v, `vhost '${name}' is deleted`);
    for (const q of [...v.queues.values()]) v.removeQueue(q);
    for (const x of [...v.exchanges.values()])
      if (x.name !== '' && !x.name.startsWith('amq.')) v.deleteExchange(x.name, false);
    this.vhosts.delete(name);
    this.users.forgetVhost(name);
    this.persistence.delete({ kind: 'vhost', name });
    return true;
  }

  /**
   * Deletes a user with its permissions. Its open connections are closed as RabbitMQ closes them: 320
   * "CONNECTION_FORCED - user 'u' is deleted".
   */
  deleteUser(name: string): boolean {
    if (this.users.get(name) === undefined) return false;
    this.forceCloseWhere((c) => c.user.name === name, `user '${name}' is deleted`);
    return this.users.delete(name);
  }

  /** The open connection of that name ("127.0.0.1:54321 -> 127.0.0.1:5672"), as the management API names it. */
  findConnection(name: string): Connection | undefined {
    for (const c of this.connections.values()) if (c.name === name) return c;
    return undefined;
  }

  /** RabbitMQ's GET /api/definitions (or /api/definitions/<vhost>): see definitions.ts. */
  exportDefinitions(vhost?: string): Definitions {
    return exportDefinitions(this, vhost);
  }

  /**
   * RabbitMQ's definitions import: validates everything first (a DefinitionsError names the bad item and
   * nothing changes), then applies it; importing the same file again changes nothing. See definitions.ts.
   */
  importDefinitions(defs: unknown, vhost?: string): void {
    importDefinitions(this, defs, vhost);
  }
  /** importDefinitions through the topology authority (see claimImportDefinitions); undefined without one. */
  claimImportDefinitions(defs: unknown, vhost?: string): Promise<void> | undefined {
    return claimImportDefinitions(this, defs, vhost);
  }

  private forceCloseWhere(match: (c: Connection) => boolean, reason: string): void {
    for (const c of [...this.connections.values()]) if (match(c)) c.forceClose(reason);
  }

  /** Checks a login (see UserRegistry.authenticate). */
  authenticate(name: string, password: string, fromLoopback: boolean): User {
    return this.users.authenticate(name, password, fromLoopback);
  }

  /** Logs in a user vouched for by a verified client certificate (see UserRegistry.authenticateExternal). */
  authenticateExternal(name: string, fromLoopback: boolean): User {
    return this.users.authenticateExternal(name, fromLoopback);
  }

  /** Opens a connection on a vhost; NOT_ALLOWED (connection scope) when the vhost is absent or refused. */
  connect(user: User, vhostName: string, info: ConnectionInfo): Connection {
    if (this.closed) throw new WarrenError('CONNECTION_FORCED', 'broker is shutting down');
    const vhost = this.vhosts.get(vhostName);
    if (vhost === undefined) {
      throw new AccessRefused('NOT_ALLOWED', `vhost ${vhostName} not found`, 'vhost not found');
    }
    if (!this.users.canAccessVhost(user.name, vhostName)) {
      const message = `access to vhost '${vhostName}' refused for user '${user.name}'`;
      throw new AccessRefused('NOT_ALLOWED', message, 'no access to vhost');
    }
    const c = new Connection(++this.connectionSeq, user, vhost, info, (closed) => {
      this.connections.delete(closed.id);
      this.churn.connectionsClosed++;
    });
    this.connections.set(c.id, c);
    this.churn.connectionsOpened++;
    return c;
  }

  /** Closes every connection and flushes the store. Protocols close their sockets first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.memory.stop();
    this.ackTimeouts.stop();
    for (const c of [...this.connections.values()]) c.close();
    await this.persistence.flush();
    await this.store.close();
  }

  private persistChange({ op, record }: RegistryChange): void {
    if (op === 'put') this.persistence.put(record);
    else this.persistence.delete(record);
  }

  /**
   * Brings this broker in step with a topology change made elsewhere (another node of a cluster): 'put' adds or
   * updates the entity the record describes, 'delete' removes it. Idempotent: a record that is already true
   * here changes nothing, so a node may also hear its own changes back.
   */
  applyRecord(op: 'put' | 'delete', record: TopologyRecord): void {
    if (op === 'put') {
      if (record.kind === 'vhost') {
        const { kind: _kind, name, ...metadata } = record;
        this.addVhost(name, { description: '', tags: [], ...metadata });
      } else if (record.kind === 'user') {
        const user = this.users.get(record.name);
        if (user?.passwordHash === record.passwordHash && sameTags(user.tags, record.tags)) return;
        this.restoreRecord(record);
      } else if (record.kind === 'queue') {
        const v = this.vhosts.get(record.vhost);
        if (v !== undefined && !v.queues.has(record.name)) this.restoreRecord(record);
      } else {
        this.restoreRecord(record);
      }
      return;
    }
    switch (record.kind) {
      case 'vhost':
        this.deleteVhost(record.name);
        return;
      case 'user':
        this.deleteUser(record.name);
        return;
      case 'permission':
        this.users.clearPermissions(record.user, record.vhost);
        return;
      case 'topic-permission':
        this.users.clearTopicPermissions(record.user, record.vhost, record.exchange);
        return;
      case 'exchange': {
        const v = this.vhosts.get(record.vhost);
        if (v?.exchanges.has(record.name) === true) v.deleteExchange(record.name, false);
        return;
      }
      case 'queue': {
        const v = this.vhosts.get(record.vhost);
        const q = v?.queues.get(record.name);
        if (v !== undefined && q !== undefined) v.removeQueue(q);
        return;
      }
      case 'stream-chunk':
        return;
      case 'binding': {
        const v = this.vhosts.get(record.vhost);
        if (v === undefined) return;
        const dest =
          record.destinationKind === 'queue'
            ? v.queues.get(record.destination)
            : v.exchanges.get(record.destination);
        if (dest !== undefined && v.exchanges.has(record.source))
          v.unbind(record.source, dest, record.routingKey, record.arguments);
        return;
      }
    }
  }

  private restoreTopology(records: TopologyRecord[]): void {
    const order: TopologyRecord['kind'][] = [
      'vhost',
      'user',
      'permission',
      'topic-permission',
      'exchange',
      'queue',
      'stream-chunk',
      'binding',
    ];
    for (const kind of order) {
      for (const r of records) {
        if (r.kind !== kind) continue;
        try {
          this.restoreRecord(r);
        } catch (e) {
          // One bad record must not keep the broker down; it is reported and skipped.
          this.logger.error({ record: r, err: e }, 'skipped an unrestorable topology record');
        }
      }
    }
  }

  private restoreRecord(r: TopologyRecord): void {
    switch (r.kind) {
      case 'vhost': {
        const v = new Vhost(this, r.name);
        v.metadata = {
          description: r.description ?? '',
          tags: r.tags ?? [],
          defaultQueueType: r.defaultQueueType,
        };
        this.vhosts.set(r.name, v);
        return;
      }
      case 'user': {
        // Records from before hashingAlgorithm was stored are all SHA-256, Warren's only writer then.
        const algorithm = isHashingAlgorithm(r.hashingAlgorithm) ? r.hashingAlgorithm : undefined;
        this.users.addHashed(r.name, r.passwordHash, r.tags, algorithm);
        return;
      }
      case 'permission':
        this.users.setPermissions(r.user, r.vhost, { configure: r.configure, write: r.write, read: r.read });
        return;
      case 'topic-permission':
        this.users.setTopicPermissions(r.user, r.vhost, {
          exchange: r.exchange,
          write: r.write,
          read: r.read,
        });
        return;
      case 'exchange': {
        const v = this.vhosts.get(r.vhost);
        if (v === undefined || v.exchanges.has(r.name)) return;
        v.declareExchange(r.name, r.type, {
          durable: r.durable,
          autoDelete: r.autoDelete,
          internal: r.internal,
          arguments: r.arguments,
        });
        return;
      }
      case 'queue':
        this.vhosts
          .get(r.vhost)
          ?.declareQueue(
            r.name,
            { durable: r.durable, exclusive: false, autoDelete: r.autoDelete, arguments: r.arguments },
            undefined,
          );
        return;
      case 'stream-chunk': {
        const q = this.vhosts.get(r.vhost)?.queues.get(r.name);
        if (q instanceof StreamQueue) q.restoreChunk(r);
        else this.persistence.delete(r); // its stream is gone
        return;
      }
      case 'binding': {
        const v = this.vhosts.get(r.vhost);
        if (v === undefined) return;
        const dest: Exchange | import('./queue').Queue | undefined =
          r.destinationKind === 'queue' ? v.queues.get(r.destination) : v.exchanges.get(r.destination);
        if (dest !== undefined && v.exchanges.has(r.source))
          v.bind(r.source, dest, r.routingKey, r.arguments);
        return;
      }
    }
  }

  private findQueueByKey(key: string) {
    for (const v of this.vhosts.values()) {
      for (const q of v.queues.values()) if (queueKey(v.name, q.name) === key) return q;
    }
    return undefined;
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
