import type { NatsConnection } from '@nats-io/transport-node';
import { parseQueueArguments, type Broker, type Logger, type TopologyRecord } from '@warren/core';
import { RemoteQueue } from './node-local-queues';

export interface TopologyMirrorOptions {
  broker: Broker;
  /** This node's name: node-local queues homed here are its own, not stand-ins. */
  node: string;
  /** For the stand-ins of other nodes' node-local queues, which forward over core NATS. */
  nc: NatsConnection;
  logger: Logger;
}

/**
 * This node's copy of the topology bucket, applied to its broker as the watcher delivers each change: the
 * records by key as last applied, and the revision applied through, which barrier answers wait for. Another
 * node's node-local queue becomes a RemoteQueue here (a message routed to it goes to its home over core
 * NATS); every other record goes to the broker's applyRecord.
 */
export class TopologyMirror {
  private readonly known = new Map<string, TopologyRecord>();
  private applied = 0;
  private readonly waiters: { revision: number; resolve: () => void }[] = [];

  constructor(private readonly o: TopologyMirrorOptions) {}

  has(key: string): boolean {
    return this.known.has(key);
  }

  /** The records as last applied, by key (a copy: deleting keys while going through it is safe). */
  records(): [string, TopologyRecord][] {
    return [...this.known];
  }

  /** The keys of the bindings into the named queue or exchange, and for an exchange those out of it too. */
  bindingKeys(vhost: string, kind: 'queue' | 'exchange', name: string): string[] {
    const keys: string[] = [];
    for (const [key, r] of this.known) {
      if (r.kind !== 'binding' || r.vhost !== vhost) continue;
      const into = r.destinationKind === kind && r.destination === name;
      if (into || (kind === 'exchange' && r.source === name)) keys.push(key);
    }
    return keys;
  }

  /** A change from the bucket (any node's, this one's included) applied to this broker. */
  apply(key: string, record: TopologyRecord | undefined, revision: number): void {
    try {
      if (record !== undefined) {
        this.known.set(key, record);
        if (record.kind === 'queue' && record.home !== undefined) this.applyHomed(record, 'put');
        else this.o.broker.applyRecord('put', record);
      } else {
        // A deletion names only the key; what it deletes is the record last seen under it.
        const gone = this.known.get(key);
        this.known.delete(key);
        if (gone?.kind === 'queue' && gone.home !== undefined) this.applyHomed(gone, 'delete');
        else if (gone !== undefined) this.o.broker.applyRecord('delete', gone);
      }
    } catch (err) {
      this.o.logger.error({ err, key, revision }, 'a topology change from the cluster could not be applied');
    } finally {
      this.pass(revision);
    }
  }

  /** A revision with nothing to apply here (the bucket's own bookkeeping) counts as applied. */
  pass(revision: number): void {
    if (revision <= this.applied) return;
    this.applied = revision;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.revision <= revision) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once everything through `revision` is applied here. */
  appliedThrough(revision: number): Promise<void> {
    if (this.applied >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  /** Another node's node-local queue (or its deletion), as this node routes to it. */
  private applyHomed(record: TopologyRecord & { kind: 'queue' }, op: 'put' | 'delete'): void {
    const home = record.home;
    if (home === undefined || home === this.o.node) return;
    const v = this.o.broker.getVhost(record.vhost);
    if (v === undefined) return;
    const existing = v.queues.get(record.name);
    if (op === 'delete') {
      if (existing instanceof RemoteQueue) v.removeQueue(existing, true);
      return;
    }
    if (existing !== undefined) return;
    const options = {
      durable: record.durable,
      exclusive: true,
      autoDelete: record.autoDelete,
      arguments: record.arguments,
    };
    const settings = parseQueueArguments(record.arguments, record.name, v.name, options);
    v.queues.set(record.name, new RemoteQueue(v, record.name, options, settings, home, this.o.nc));
  }
}
