import type { FieldTable } from './field-table';
import type { MessageProperties } from './properties';

/**
 * What the broker keeps across restarts. Topology records are keyed; each is replaced whole by a `put` of the
 * same key. Queues are keyed by `vhost` + `name` (see queueKey).
 */
export type TopologyRecord =
  | ({ kind: 'vhost'; name: string } & Partial<VhostMetadata>)
  /** hashingAlgorithm: absent in records written before it existed, which were all SHA-256. */
  | { kind: 'user'; name: string; passwordHash: string; hashingAlgorithm?: string; tags: string[] }
  | { kind: 'permission'; user: string; vhost: string; configure: string; write: string; read: string }
  | { kind: 'topic-permission'; user: string; vhost: string; exchange: string; write: string; read: string }
  | {
      kind: 'exchange';
      vhost: string;
      name: string;
      type: string;
      /** Always true in a broker's own store; a cluster's topology also keeps transient ones (docs/cluster.md). */
      durable: boolean;
      autoDelete: boolean;
      internal: boolean;
      arguments: FieldTable;
    }
  | {
      kind: 'queue';
      vhost: string;
      name: string;
      durable: boolean;
      autoDelete: boolean;
      arguments: FieldTable;
      /**
       * A cluster's queue that lives on one node only (exclusive or auto-delete): that node's name. Other
       * nodes route to it over the network. Never set in a broker's own store.
       */
      home?: string;
    }
  /**
   * One chunk of a stream: its first offset, the id of its first message (how a restart finds where the chunk
   * starts among the queue's messages), its timestamp (ms), and whether it opens a segment. Written in the
   * same batch as, and before, that first message; deleted when retention removes it.
   */
  | {
      kind: 'stream-chunk';
      vhost: string;
      name: string;
      offset: number;
      id: number;
      timestamp: number;
      segment: boolean;
    }
  | {
      kind: 'binding';
      vhost: string;
      source: string;
      destination: string;
      destinationKind: 'queue' | 'exchange';
      routingKey: string;
      arguments: FieldTable;
    };

/** What an operator may say about a vhost (RabbitMQ's vhost metadata); Warren keeps it and shows it. */
export interface VhostMetadata {
  description: string;
  tags: string[];
  /** RabbitMQ's default_queue_type; Warren has classic queues only, so it is kept, not acted on. */
  defaultQueueType: string | undefined;
}

export interface StoredMessage {
  id: number;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  body: Buffer;
}

/**
 * One store operation. Operations arrive in batches, one batch per event-loop turn, in the order the broker
 * performed them; a store must apply a batch in order.
 */
export type StoreOp =
  | { op: 'put'; key: string; record: TopologyRecord }
  | { op: 'delete'; key: string }
  /** The message enters a durable queue. `message` is present the first time the store sees this id. */
  | { op: 'enqueue'; queue: string; id: number; message: StoredMessage | undefined }
  /** The message left the queue for good (acked, expired, dropped, dead-lettered, purged). */
  | { op: 'settle'; queue: string; id: number }
  /** First delivery of the message from the queue: after a restart it comes back marked redelivered. */
  | { op: 'delivered'; queue: string; id: number }
  /** Every message of the queue is gone (queue deleted). */
  | { op: 'drop-queue'; queue: string };

export interface RecoveredQueueMessage {
  id: number;
  /** Body bytes and priority: what a queue needs to hold the message while its body stays on disk. */
  size: number;
  priority: number;
  /** The whole message, or undefined when the store left it on disk (see RecoverOptions.residentBytes). */
  message: StoredMessage | undefined;
  delivered: boolean;
}

export interface RecoverOptions {
  /**
   * Per queue, message bytes worth loading: a store with `read` may leave the messages past this many bytes of
   * a queue on disk, to be read when the queue reaches them. Undefined: load everything.
   */
  residentBytes?: number;
  /**
   * The caller takes what a store leaves on disk as columns (RecoveredState.pagedTails), so a backlog of
   * millions does not come back as an object per message. A store may ignore it.
   */
  pagedTails?: boolean;
}

/**
 * The messages a store left on disk at the end of one queue, in queue order, as columns: index i of each
 * array is one message (`delivered` 1 when it was delivered before).
 */
export interface PagedTail {
  readonly ids: Float64Array;
  readonly sizes: Uint32Array;
  readonly priorities: Uint8Array;
  readonly delivered: Uint8Array;
}

export interface RecoveredState {
  topology: TopologyRecord[];
  /** Per queue key, its messages in queue order. */
  messages: Map<string, RecoveredQueueMessage[]>;
  /**
   * With RecoverOptions.pagedTails, per queue key, the messages that follow its `messages` list, left on
   * disk. A queue's order is its `messages` then its tail.
   */
  pagedTails?: Map<string, PagedTail>;
  /** The largest message id ever stored, so new ids never collide with recovered ones. */
  maxMessageId: number;
}

/**
 * The durable store behind the core. Batch-first: `write` takes every operation of one event-loop turn, so
 * a journal can turn them into one write and one fsync, and a remote store into one round trip.
 */
export interface MessageStore {
  recover(options?: RecoverOptions): Promise<RecoveredState>;
  /** Queues a batch; `durable` is called once the whole batch (and all before it) is on stable storage. */
  write(ops: StoreOp[], durable: () => void): void;
  /**
   * Reads back messages the store holds, by id, for queues that keep them on disk only over their memory
   * budget. Only ids of messages some queue still holds are asked for; ids of earlier `write` batches may be
   * asked before those batches are durable. A store without it keeps every message in memory instead.
   */
  read?(ids: readonly number[]): Promise<Map<number, StoredMessage>>;
  close(): Promise<void>;
}

export function queueKey(vhost: string, name: string): string {
  return `${vhost}\u0000${name}`;
}

export function topologyKey(record: TopologyRecord): string {
  switch (record.kind) {
    case 'vhost':
      return `v\u0000${record.name}`;
    case 'user':
      return `u\u0000${record.name}`;
    case 'permission':
      return `p\u0000${record.user}\u0000${record.vhost}`;
    case 'topic-permission':
      return `t\u0000${record.user}\u0000${record.vhost}\u0000${record.exchange}`;
    case 'exchange':
      return `e\u0000${record.vhost}\u0000${record.name}`;
    case 'queue':
      return `q\u0000${record.vhost}\u0000${record.name}`;
    case 'stream-chunk':
      return `s\u0000${record.vhost}\u0000${record.name}\u0000${record.offset}`;
    case 'binding':
      return `b\u0000${record.vhost}\u0000${record.source}\u0000${record.destinationKind}\u0000${record.destination}\u0000${record.routingKey}\u0000${bindingArgsKey(record.arguments)}`;
  }
}

function bindingArgsKey(args: FieldTable): string {
  const keys = Object.keys(args).sort();
  return keys
    .map(
      (k) =>
        `${k}=${JSON.stringify(args[k], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    )
    .join(';');
}
