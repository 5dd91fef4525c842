/*
 * The cluster's topology (vhosts, users, permissions, exchanges, queues, bindings) in one JetStream KV
 * bucket, `warren-topology`: key = recordKey(record) (key-codec.ts), value = encodeRecord(record) (JSON,
 * value-codec.ts), history 1 (the current record is all a node needs; the revision orders changes).
 *
 * Declarations race between nodes the way they race between channels on one RabbitMQ node: create() is
 * "declare if absent" and tells the loser what won (TopologyConflict); update() is compare-and-set on the
 * revision. Every node keeps its in-memory topology in step with watch().
 */
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { TopologyRecord } from '@warren/core';
import type { ClusterConnection } from './connection';
import { clusterSize } from './queue-stream';
import { decodeRecord, encodeRecord } from './value-codec';

export const TOPOLOGY_BUCKET = 'warren-topology';

export interface TopologyEntry {
  record: TopologyRecord;
  /** The bucket's sequence of this value: what update() compares. */
  revision: number;
}

/** A change seen by a watch; `record` undefined: the key was deleted. */
export interface TopologyChange {
  key: string;
  record: TopologyRecord | undefined;
  revision: number;
}

export interface TopologyWatch {
  /** Resolves once the values present when the watch started have all been delivered. */
  readonly caughtUp: Promise<void>;
  stop(): void;
}

/** create() of a key that exists, or update() with a revision that is no longer the current one. */
export class TopologyConflict extends Error {
  override readonly name = 'TopologyConflict';
  constructor(
    readonly key: string,
    /** What the bucket holds now (undefined: the key was deleted meanwhile). */
    readonly stored: TopologyRecord | undefined,
    readonly revision: number,
  ) {
    super(`topology key ${key} is at revision ${revision}`);
  }
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export class TopologyBucket {
  private constructor(private readonly kv: KV) {}

  static async open(
    conn: ClusterConnection,
    options: { replicas: number; bucket?: string },
  ): Promise<TopologyBucket> {
    const replicas = Math.max(1, Math.min(options.replicas, await clusterSize(conn)));
    const kv = await new Kvm(conn.js).create(options.bucket ?? TOPOLOGY_BUCKET, { history: 1, replicas });
    return new TopologyBucket(kv);
  }

  async get(key: string): Promise<TopologyEntry | undefined> {
    const e = await this.kv.get(key);
    if (e === null || e.operation !== 'PUT') return undefined;
    return { record: decodeRecord(e.value), revision: e.revision };
  }

  /** Stores the record if the key has none; else TopologyConflict with what is there. */
  async create(key: string, record: TopologyRecord): Promise<number> {
    try {
      return await this.kv.create(key, encodeRecord(record));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw await this.conflict(key);
    }
  }

  /** Stores the record whatever is there. */
  put(key: string, record: TopologyRecord): Promise<number> {
    return this.kv.put(key, encodeRecord(record));
  }

  /** Stores the record if the key is still at expectedRevision; else TopologyConflict. */
  async update(key: string, record: TopologyRecord, expectedRevision: number): Promise<number> {
    try {
      return await this.kv.update(key, encodeRecord(record), expectedRevision);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw await this.conflict(key);
    }
  }

  /** Deletes the key; resolves with the revision of the deletion (what a watcher applies it at). */
  async delete(key: string): Promise<number> {
    await this.kv.delete(key);
    const e = await this.kv.get(key);
    return e?.revision ?? 0;
  }

  /**
   * Every current value (caughtUp resolves after the last), then every change, in revision order, until
   * stop(). A value that does not decode goes to onError with its key and is skipped.
   */
  async watch(
    onChange: (change: TopologyChange) => void,
    onError?: (err: unknown) => void,
  ): Promise<TopologyWatch> {
    const report = (err: unknown): void => {
      try {
        onError?.(err);
      } catch {
        // Nowhere further to report.
      }
    };
    // The watch delivers the last value of every key, deletions included, each telling how many are still
    // to come (delta); an empty bucket delivers nothing, so it is caught up at once.
    const initially = (await this.kv.status()).values;
    let caughtUp!: () => void;
    const promise = new Promise<void>((resolve) => (caughtUp = resolve));
    if (initially === 0) caughtUp();
    const iter: QueuedIterator<KvWatchEntry> = await this.kv.watch({ key: '>' });
    void (async () => {
      try {
        for await (const e of iter) {
          try {
            const record = e.operation === 'PUT' ? decodeRecord(e.value) : undefined;
            onChange({ key: e.key, record, revision: e.revision });
          } catch (err) {
            report(new Error(`topology key ${e.key} (revision ${e.revision}): ${(err as Error).message}`));
          }
          if (e.delta === 0) caughtUp();
        }
      } catch (err) {
        report(err);
      } finally {
        caughtUp();
      }
    })();
    return { caughtUp: promise, stop: () => iter.stop() };
  }

  private async conflict(key: string): Promise<TopologyConflict> {
    const e = await this.kv.get(key);
    if (e === null) return new TopologyConflict(key, undefined, 0);
    return new TopologyConflict(key, e.operation === 'PUT' ? decodeRecord(e.value) : undefined, e.revision);
  }
}
