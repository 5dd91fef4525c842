import { hostname } from 'node:os';
import type { Subscription } from '@nats-io/transport-node';
import {
  parseQueueArguments,
  queueKey,
  replyQueueNode,
  queueTypeOf,
  type Broker,
  type ClaimedRecord,
  type Logger,
  type Message,
  type Queue,
  type QueueSettings,
  type TopologyAuthority,
  type TopologyChange,
  type TopologyRecord,
  type Vhost,
} from '@warren/core';
import type { ClusterConnection } from './connection';
import { recordKey } from './key-codec';
import { QueueStream } from './queue-stream';
import { messageOf } from './envelope';
import { HomeQueue, homeSubjects, parseHomeSubject, RemoteQueue } from './node-local-queues';
import { LogStream } from './log-stream';
import { ReplicatedQueue, type ReplicaState } from './replicated-queue';
import { ReplicatedStream } from './replicated-stream';
import { DEFAULT_HEARTBEAT_MS, Peers, type PeerAnswer, type PeerAnswerer } from './peers';
import { TopologyBucket, TopologyConflict, type TopologyWatch } from './topology-bucket';
import { TopologyMirror } from './topology-mirror';

export interface ClusterNodeOptions {
  conn: ClusterConnection;
  broker: Broker;
  /** This node's name in the cluster; unique among the nodes. */
  name: string;
  /** Replicas of the topology bucket and of each queue stream (capped at the servers' count). */
  replicas: number;
  ackWaitMs: number;
  logger: Logger;
  /** What the broker made at its start (default user, vhost, permissions): the seed of an empty cluster. */
  localRecords: TopologyRecord[];
  /** How often a node says it is alive, and how long the others wait before they stop counting on it. */
  heartbeatMs?: number;
}

/** Other nodes' direct reply-to queues a node keeps a stand-in for, at most (then it starts afresh). */
const REPLY_QUEUES_KEPT = 1024;
/** The key whose creation makes one node the one that seeds an empty cluster with its defaults. */
const SEEDED_KEY = 'meta.seeded';
/** What a publish carries besides the envelope, at most: the message id header and framing. */
const PUBLISH_OVERHEAD = 512;

/** The node name when none is configured: the host and the AMQP port, unique on one machine. */
export function defaultNodeName(amqpPort: number): string {
  return `warren@${hostname()}:${amqpPort}`;
}

/**
 * One Warren process's membership of a cluster: the topology authority (declares, binds and deletes are
 * stored in the replicated KV bucket and applied on every live node before the client hears -ok), the
 * watcher that keeps this broker's routing in step with the bucket, and the maker of replicated queues.
 *
 * How "bind-ok on A, then publish on B routes" holds: a claim resolves only after (1) the bucket stored the
 * record at revision r, (2) this node's watcher applied everything through r, and (3) every other live node
 * answered the barrier request for r, which a node does only once its own watcher has applied through r.
 * A node that does not answer within the barrier's time is treated as gone (it applies r when it returns).
 */
export class ClusterNode implements TopologyAuthority {
  private bucket!: TopologyBucket;
  private watch: TopologyWatch | undefined;
  /** The bucket's records as last applied here. */
  private readonly mirror: TopologyMirror;
  /** The streams of replicated queues, opened once per node. */
  private readonly streams = new Map<string, Promise<QueueStream>>();
  /** Stand-ins for other nodes' direct reply-to queues this node has routed replies to. */
  private readonly replyQueues = new Map<string, RemoteQueue>();
  /** The logs of stream queues, opened once per node. */
  private readonly logs = new Map<string, Promise<LogStream>>();
  /** Node-local queues of this node whose records are being taken out of the topology. */
  private readonly dropping = new WeakMap<HomeQueue, Promise<number>>();
  /** The other nodes: heartbeats, barrier and queue-state answers. */
  private readonly peers: Peers;
  private readonly subscriptions: Subscription[] = [];
  private readonly bootId = `${Date.now().toString(36)}.${process.pid}`;
  running = false;

  private constructor(private readonly o: ClusterNodeOptions) {
    this.mirror = new TopologyMirror({ broker: o.broker, node: o.name, nc: o.conn.nc, logger: o.logger });
    this.peers = new Peers({
      nc: o.conn.nc,
      name: o.name,
      heartbeatMs: o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      alarms: o.broker.alarms,
      appliedThrough: (revision) => this.mirror.appliedThrough(revision),
      localState: (vhost, queue) => {
        const q = o.broker.getVhost(vhost)?.queues.get(queue);
        return q instanceof ReplicatedQueue ? q.localState() : { consumers: 0, unacked: 0 };
      },
      trim: (vhost, queue) => {
        const q = o.broker.getVhost(vhost)?.queues.get(queue);
        if (q instanceof ReplicatedQueue) q.dropHeads();
      },
      // The queues it trimmed may have taken publishes since it went silent that nobody trimmed.
      peerLeft: () => this.trimChosen(),
      failed: (err, what) => o.logger.warn({ err, what }, 'a cluster peer event could not be handled'),
    });
  }

  get name(): string {
    return this.o.name;
  }

  /** Names of the other nodes heard from recently. */
  get livePeers(): string[] {
    return this.peers.live;
  }

  /** Every node this one has heard of, itself first, and whether each is running. */
  get knownNodes(): { name: string; running: boolean }[] {
    return this.peers.known;
  }

  /** Asks every other live node a question (the management API's cluster-wide lists); see Peers.ask. */
  ask(question: string, args: unknown): Promise<PeerAnswer[]> {
    return this.peers.ask(question, args);
  }

  /** Answers a question for the other nodes from now on; returns how to stop. */
  answerWith(question: string, answerer: PeerAnswerer): () => void {
    return this.peers.answerWith(question, answerer);
  }

  /**
   * Joins: opens the bucket, seeds an empty cluster with this broker's defaults (or drops local defaults the
   * cluster does not have), applies the cluster's topology, then takes over topology changes and durable
   * queues. Call after broker.start() and before any listener opens.
   */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    await node.join();
    return node;
  }

  private async join(): Promise<void> {
    const { conn, broker } = this.o;
    this.running = true;
    this.bucket = await TopologyBucket.open(conn, { replicas: this.o.replicas });
    await this.listen();
    // Replicated queues from here on: the watcher's first pass makes the cluster's durable queues.
    broker.queueFactory = (host, name, options, settings, owner) => {
      if (settings.type === 'stream') return new ReplicatedStream(host, name, options, settings, owner, this);
      if (this.replicates(options.exclusive, options.autoDelete, settings.type)) {
        return new ReplicatedQueue(host, name, options, settings, owner, this);
      }
      const q = new HomeQueue(host, name, options, settings, owner, (gone) => this.dropHomed(gone));
      this.advertise(q);
      return q;
    };
    // Direct reply-to: a reply routed here for another node's reply queue goes there over core NATS.
    broker.queueElsewhere = (v, name) => this.replyQueueElsewhere(v, name);
    const local = this.o.localRecords;
    const seeding = await this.claimSeed();
    this.watch = await this.bucket.watch(
      (change) =>
        change.key === SEEDED_KEY
          ? this.mirror.pass(change.revision)
          : this.mirror.apply(change.key, change.record, change.revision),
      (err) => this.o.logger.error({ err }, 'a topology record from the cluster could not be applied'),
    );
    await this.watch.caughtUp;
    // Node-local queues of this node's previous life went with it.
    for (const [key, record] of this.mirror.records()) {
      if (record.kind === 'queue' && record.home === this.name) await this.bucket.delete(key);
    }
    if (seeding) {
      for (const record of local) {
        await this.bucket.create(recordKey(record), record).catch((err: unknown) => {
          if (!(err instanceof TopologyConflict)) throw err;
        });
      }
    } else {
      // Defaults this broker made on its own (guest, '/') that the cluster removed are removed here too.
      for (const record of local) {
        if ((await this.bucket.get(recordKey(record))) === undefined) broker.applyRecord('delete', record);
      }
    }
    broker.topologyAuthority = this;
    this.o.logger.info({ node: this.name, seeded: seeding }, 'joined the cluster');
  }

  /** The first node of an empty cluster seeds it; every later one takes what is there. */
  private async claimSeed(): Promise<boolean> {
    try {
      await this.bucket.create(SEEDED_KEY, { kind: 'vhost', name: '', description: this.name });
      return true;
    } catch (err) {
      if (err instanceof TopologyConflict) return false;
      throw err;
    }
  }

  /** What the broker made at start (the default user, vhost and permissions): its store's topology. */
  /**
   * Which queues the cluster keeps: every queue but an exclusive one (its owner's connection is on one node),
   * an auto-delete one (deleted when its node's last consumer goes) and a stream (a shared log of its own,
   * ReplicatedStream). Transient queues too, as RabbitMQ's transient queues are reachable from every node.
   */
  private replicates(exclusive: boolean, autoDelete: boolean, type: string): boolean {
    return !exclusive && !autoDelete && type !== 'stream';
  }

  /** The stream of one queue, opened once per node. */
  stream(vhost: string, queue: string): Promise<QueueStream> {
    return openOnce(this.streams, queueKey(vhost, queue), () =>
      QueueStream.ensure(this.o.conn, {
        vhost,
        queue,
        replicas: this.o.replicas,
        ackWaitMs: this.o.ackWaitMs,
      }),
    );
  }

  /** The log of one stream queue, opened once per node (created with `settings`' retention if new). */
  log(vhost: string, queue: string, settings: QueueSettings): Promise<LogStream> {
    return openOnce(this.logs, queueKey(vhost, queue), () =>
      LogStream.ensure(this.o.conn, {
        vhost,
        queue,
        replicas: this.o.replicas,
        ...(settings.maxLengthBytes !== undefined ? { maxBytes: settings.maxLengthBytes } : {}),
        ...(settings.maxAge !== undefined ? { maxAgeMs: settings.maxAge } : {}),
      }),
    );
  }

  /**
   * A node-local queue made here without a claim (a STOMP /temp-queue named as a destination): its record
   * goes to the cluster afterwards, so that replies sent through other nodes reach it. A claimed declare has
   * its record already; direct reply-to queues need none (their names say their node).
   */
  private advertise(q: HomeQueue): void {
    const record: TopologyRecord = {
      kind: 'queue',
      vhost: q.vhost.name,
      name: q.name,
      durable: q.durable,
      autoDelete: q.options.autoDelete,
      arguments: q.options.arguments,
      home: this.name,
    };
    if (this.mirror.has(recordKey(record)) || replyQueueNode(q.name) !== undefined || !this.running) return;
    this.bucket
      .put(recordKey(record), record)
      .catch((err: unknown) =>
        this.o.logger.warn(
          { err, queue: q.name },
          'a node-local queue could not be made known to the cluster',
        ),
      );
  }

  /**
   * The stand-in for another node's direct reply-to queue (its name says the node), kept for the next reply;
   * undefined for a name of this node's or none. Reply queues are many and short-lived: the cache is bounded.
   */
  private replyQueueElsewhere(v: Vhost, name: string): Queue | undefined {
    const home = replyQueueNode(name);
    if (home === undefined || home === this.name || !this.running) return undefined;
    const key = queueKey(v.name, name);
    let q = this.replyQueues.get(key);
    if (q === undefined) {
      if (this.replyQueues.size >= REPLY_QUEUES_KEPT) this.replyQueues.clear();
      const options = { durable: false, exclusive: true, autoDelete: true, arguments: {} };
      const settings = parseQueueArguments({}, name, v.name, options);
      q = new RemoteQueue(v, name, options, settings, home, this.o.conn.nc);
      this.replyQueues.set(key, q);
    }
    return q;
  }

  /** A stream queue's delete: its record and bindings leave the cluster, then its log goes. */
  private async dropLog(q: ReplicatedStream): Promise<number> {
    await q.refresh().catch(() => {});
    await this.dropBindings(q.vhost.name, 'queue', q.name);
    const revision = await this.remove({
      kind: 'queue',
      vhost: q.vhost.name,
      name: q.name,
      durable: true,
      autoDelete: false,
      arguments: {},
    });
    const key = queueKey(q.vhost.name, q.name);
    const log = this.logs.get(key);
    this.logs.delete(key);
    if (log !== undefined) await (await log).delete().catch(() => {});
    return revision;
  }

  publishId(msg: Message): string {
    return `${this.bootId}.${msg.id}`;
  }

  nextMessageId(): number {
    return this.o.broker.nextMessageId();
  }

  get ackWaitMs(): number {
    return this.o.ackWaitMs;
  }

  get maxPayload(): number {
    const max = this.o.conn.nc.info?.max_payload ?? 0;
    // The Nats-Msg-Id header and the protocol line take a few hundred bytes of it.
    return max > 0 ? max - PUBLISH_OVERHEAD : 0;
  }

  /** See TopologyAuthority: stored in the bucket, applied here and on every live node. */
  async claim(change: TopologyChange): Promise<void> {
    const revision = await this.store(change);
    if (revision === undefined) return;
    await this.mirror.appliedThrough(revision);
    await this.peers.barrier(revision);
  }

  /** Writes the change to the bucket; undefined when it stays on this node (or there is nothing to write). */
  private async store(change: TopologyChange): Promise<number | undefined> {
    const broker = this.o.broker;
    switch (change.kind) {
      case 'declare-exchange': {
        // Known here already: the cluster has it, and the caller's local check compares the declare with it.
        if (broker.getVhost(change.vhost)?.exchanges.has(change.name) === true) return undefined;
        const record: TopologyRecord = {
          kind: 'exchange',
          vhost: change.vhost,
          name: change.name,
          type: change.type,
          durable: change.durable,
          autoDelete: change.autoDelete,
          internal: change.internal,
          arguments: change.arguments,
        };
        return change.passive ? this.lookup(record) : this.declare(record);
      }
      case 'declare-queue': {
        const local = broker.getVhost(change.vhost)?.queues.get(change.name);
        if (local !== undefined) {
          // Known here: the local check compares the declare; its -ok reports the cluster's counts.
          if (local instanceof ReplicatedQueue || local instanceof ReplicatedStream) await local.refresh();
          return undefined;
        }
        const record: TopologyRecord = {
          kind: 'queue',
          vhost: change.vhost,
          name: change.name,
          durable: change.durable,
          autoDelete: change.autoDelete,
          arguments: change.arguments,
        };
        if (change.passive) return this.lookup(record);
        const type = queueTypeOf(change.arguments);
        if (type === 'stream') {
          // The log first, with the declare's retention: a node that applies the record opens a log that exists.
          const v = broker.getVhost(change.vhost);
          if (v === undefined) return undefined;
          const options = { ...change, exclusive: false };
          await this.log(
            change.vhost,
            change.name,
            parseQueueArguments(change.arguments, change.name, v.name, options),
          );
          return this.declare(record);
        }
        // A node-local queue: the cluster knows where it lives, so other nodes route to it.
        if (!this.replicates(change.exclusive, change.autoDelete, type)) {
          return this.declare({ ...record, home: this.name });
        }
        // The stream first: a node that applies the record opens a stream that exists.
        await this.stream(change.vhost, change.name);
        return this.declare(record);
      }
      case 'delete-exchange':
        await this.dropBindings(change.vhost, 'exchange', change.name);
        return this.remove({
          kind: 'exchange',
          vhost: change.vhost,
          name: change.name,
          type: '',
          durable: true,
          autoDelete: false,
          internal: false,
          arguments: {},
        });
      case 'delete-queue': {
        const q = broker.getVhost(change.vhost)?.queues.get(change.name);
        if (q instanceof HomeQueue) return this.dropHomed(q);
        if (q instanceof ReplicatedStream) return this.dropLog(q);
        if (!(q instanceof ReplicatedQueue)) return undefined;
        // delete-ok's count: what this node published has landed, and the stream says how many are ready.
        await q.settled();
        await q.refresh().catch(() => {});
        await this.dropBindings(change.vhost, 'queue', change.name);
        const revision = await this.remove({
          kind: 'queue',
          vhost: change.vhost,
          name: change.name,
          durable: true,
          autoDelete: false,
          arguments: {},
        });
        const stream = await this.stream(change.vhost, change.name);
        this.streams.delete(queueKey(change.vhost, change.name));
        await stream.delete().catch(() => {});
        return revision;
      }
      case 'bind':
      case 'unbind': {
        if (!this.clusterWide(change.vhost, change.source, 'exchange')) return undefined;
        if (!this.clusterWide(change.vhost, change.destination, change.destinationKind)) return undefined;
        const record: TopologyRecord = {
          kind: 'binding',
          vhost: change.vhost,
          source: change.source,
          destination: change.destination,
          destinationKind: change.destinationKind,
          routingKey: change.routingKey,
          arguments: change.arguments,
        };
        return change.kind === 'bind' ? this.bucket.put(recordKey(record), record) : this.remove(record);
      }
      case 'put-record':
        return isTopologyRecord(change.record)
          ? this.bucket.put(recordKey(change.record), change.record)
          : undefined;
      case 'delete-record':
        return isTopologyRecord(change.record) ? this.remove(change.record) : undefined;
    }
  }

  /** Whether an exchange or queue is the same on every node: every exchange, and the replicated queues. */
  private clusterWide(vhost: string, name: string, kind: 'queue' | 'exchange'): boolean {
    const v = this.o.broker.getVhost(vhost);
    if (v === undefined) return false;
    if (kind === 'queue') {
      const q = v.queues.get(name);
      return q instanceof ReplicatedQueue || q instanceof HomeQueue || q instanceof ReplicatedStream;
    }
    return v.exchanges.has(name);
  }

  /** Declare if absent; if present, the stored record is applied here and the caller's local check decides. */
  private async declare(record: TopologyRecord): Promise<number> {
    const key = recordKey(record);
    const got = await this.bucket.get(key);
    if (got !== undefined) return got.revision;
    try {
      return await this.bucket.create(key, record);
    } catch (err) {
      if (err instanceof TopologyConflict) return err.revision;
      throw err;
    }
  }

  /** A passive declare: NOT_FOUND unless the cluster has it. */
  private async lookup(record: TopologyRecord): Promise<number | undefined> {
    const got = await this.bucket.get(recordKey(record));
    if (got === undefined) return undefined;
    return got.revision;
  }

  /** Deletes the record's key; resolves with the revision of the deletion. */
  private remove(record: TopologyRecord): Promise<number> {
    return this.bucket.delete(recordKey(record));
  }

  /**
   * Takes a node-local queue's record and its bindings out of the topology, once (it is gone here: deleted,
   * its owner closed, its last consumer left). Resolves with the revision of the queue's deletion.
   */
  private dropHomed(q: HomeQueue): Promise<number> {
    let dropping = this.dropping.get(q);
    if (dropping === undefined) {
      const record: TopologyRecord = {
        kind: 'queue',
        vhost: q.vhost.name,
        name: q.name,
        durable: q.durable,
        autoDelete: q.options.autoDelete,
        arguments: q.options.arguments,
      };
      dropping = this.dropBindings(record.vhost, 'queue', record.name).then(() => this.remove(record));
      dropping.catch((err: unknown) =>
        this.o.logger.warn({ err, queue: q.name }, 'a node-local queue stays in the cluster topology'),
      );
      this.dropping.set(q, dropping);
    }
    return dropping;
  }

  /** Deletes the bindings whose destination (or, for an exchange, source) is the named queue or exchange. */
  private async dropBindings(vhost: string, kind: 'queue' | 'exchange', name: string): Promise<void> {
    for (const key of this.mirror.bindingKeys(vhost, kind, name)) await this.bucket.delete(key);
  }

  /** What the other live nodes have of a queue: its consumers there, and the deliveries they hold unacked. */
  remoteState(vhost: string, queue: string): Promise<ReplicaState> {
    return this.peers.remoteState(vhost, queue);
  }

  /** Trims the bounded queues this node is now chosen for (a trim within the limits does nothing). */
  private trimChosen(): void {
    for (const vhost of this.o.broker.vhosts.values())
      for (const q of vhost.queues.values())
        if (
          q instanceof ReplicatedQueue &&
          q.dropsHead &&
          this.peers.chosenFor(vhost.name, q.name) === this.name
        )
          q.dropHeads();
  }

  /** A publish landed in a queue with a drop-head limit: the node chosen for the queue trims it. */
  askTrim(vhost: string, queue: string): void {
    this.peers.askTrim(vhost, queue);
  }

  private async listen(): Promise<void> {
    await this.peers.start();
    this.subscriptions.push(
      this.o.conn.nc.subscribe(homeSubjects(this.name), {
        callback: (err, msg) => {
          if (err === null) this.deliverForwarded(msg.subject, msg.data);
        },
      }),
    );
  }

  /** A message another node routed to one of this node's node-local queues. */
  private deliverForwarded(subject: string, payload: Uint8Array): void {
    try {
      const to = parseHomeSubject(subject);
      const q = to === undefined ? undefined : this.o.broker.getVhost(to.vhost)?.queues.get(to.queue);
      if (!(q instanceof HomeQueue) || q.deleted) return;
      const msg = messageOf(payload);
      msg.id = this.o.broker.nextMessageId();
      q.enqueue(msg);
    } catch (err) {
      this.o.logger.warn({ err, subject }, 'a message forwarded from another node was dropped');
    }
  }

  /** Leaves the cluster: no more pulls, heartbeats or barrier answers. The connection is the caller's. */
  async leave(): Promise<void> {
    this.running = false;
    this.peers.stop();
    this.watch?.stop();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    const broker = this.o.broker;
    for (const v of broker.vhosts.values())
      for (const q of v.queues.values())
        if (q instanceof ReplicatedQueue || q instanceof ReplicatedStream) q.leave();
    if (broker.topologyAuthority === this) broker.topologyAuthority = undefined;
    broker.queueElsewhere = undefined;
    this.replyQueues.clear();
  }
}

function isTopologyRecord(r: ClaimedRecord): r is TopologyRecord {
  return r.kind !== 'policy' && r.kind !== 'parameter';
}

/** What `open` makes for `key`, made once and shared by every caller; a failed open is tried again by the next. */
function openOnce<T>(opened: Map<string, Promise<T>>, key: string, open: () => Promise<T>): Promise<T> {
  let p = opened.get(key);
  if (p === undefined) {
    p = open();
    p.catch(() => opened.delete(key));
    opened.set(key, p);
  }
  return p;
}
