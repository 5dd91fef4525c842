import type { Broker, TopologyAuthority, TopologyChange, WarrenError } from '@warren/core';

/** One claim the authority has received, until the test settles it. */
export interface HeldClaim {
  readonly change: TopologyChange;
  readonly settled: boolean;
  /** Applies the change to the broker (as a cluster's authority applies it on every node), then resolves. */
  release(): void;
  reject(err: WarrenError): void;
}

/**
 * A real, in-process TopologyAuthority for tests: it records every claim and holds it until the test releases
 * or rejects it. A released claim is applied to the broker before it resolves, as a cluster's authority applies
 * the change on every node (this one included) before the claim resolves: so the caller's own local apply
 * afterwards meets what exists already, and the tests prove it is idempotent. With `hold` false, claims are
 * recorded and released at once.
 */
export class HeldAuthority implements TopologyAuthority {
  readonly claims: HeldClaim[] = [];
  hold = true;
  private waiters: (() => void)[] = [];

  constructor(private readonly broker: Broker) {}

  /** Installs a new HeldAuthority on `broker`. */
  static install(broker: Broker): HeldAuthority {
    const a = new HeldAuthority(broker);
    broker.topologyAuthority = a;
    return a;
  }

  claim(change: TopologyChange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const claim: HeldClaim = {
        change,
        get settled() {
          return settled;
        },
        release: () => {
          if (settled) return;
          settled = true;
          try {
            this.apply(change);
          } catch (e) {
            reject(e);
            return;
          }
          resolve();
        },
        reject: (err) => {
          if (settled) return;
          settled = true;
          reject(err);
        },
      };
      this.claims.push(claim);
      if (!this.hold) claim.release();
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  /** Claims not yet released or rejected. */
  get pending(): HeldClaim[] {
    return this.claims.filter((c) => !c.settled);
  }

  /** Waits (event-driven, with a deadline) for an unsettled claim of `kind`, and returns the first such. */
  async next(kind?: TopologyChange['kind'], timeoutMs = 5000): Promise<HeldClaim> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.pending.find((c) => kind === undefined || c.change.kind === kind);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind ?? 'topology'} claim within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  releaseAll(): void {
    for (const c of this.pending) c.release();
  }

  /** What every node does with a stored change: this broker is the only node. */
  private apply(change: TopologyChange): void {
    const broker = this.broker;
    switch (change.kind) {
      case 'declare-exchange': {
        const v = broker.getVhost(change.vhost);
        if (v === undefined || change.passive) return;
        v.declareExchange(change.name, change.type, change);
        return;
      }
      case 'delete-exchange':
        broker.getVhost(change.vhost)?.deleteExchange(change.name, change.ifUnused);
        return;
      case 'declare-queue': {
        const v = broker.getVhost(change.vhost);
        if (v === undefined || change.passive) return;
        const owner =
          change.owner === undefined ? undefined : broker.connections.get(change.owner.connection);
        if (change.exclusive && owner === undefined) return;
        v.declareQueue(change.name, change, owner);
        return;
      }
      case 'delete-queue': {
        const v = broker.getVhost(change.vhost);
        const q = v?.queues.get(change.name);
        if (v === undefined || q === undefined) return;
        const owner = change.owner === undefined ? q.owner : broker.connections.get(change.owner.connection);
        v.deleteQueue(change.name, owner, change.ifUnused, change.ifEmpty);
        return;
      }
      case 'bind':
      case 'unbind': {
        const v = broker.getVhost(change.vhost);
        if (v === undefined) return;
        const d =
          change.destinationKind === 'queue'
            ? v.queues.get(change.destination)
            : v.exchanges.get(change.destination);
        if (d === undefined) return;
        if (change.kind === 'bind') v.bind(change.source, d, change.routingKey, change.arguments);
        else v.unbind(change.source, d, change.routingKey, change.arguments);
        return;
      }
      case 'put-record':
      case 'delete-record':
        // Users, vhosts, permissions: the caller applies them locally once the claim resolves.
        return;
    }
  }
}
