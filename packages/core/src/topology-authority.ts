import { randomBytes } from 'node:crypto';
import { WarrenError } from './errors';
import type { FieldTable } from './field-table';
import { QUEUE_TYPE_MODULE, queueTypeOf } from './queue-arguments';
import type { TopologyRecord } from './store';

/**
 * Who holds an exclusive queue: the connection that declared it and the node it lives on (a cluster node's
 * name; undefined on a single node), so an authority can answer RESOURCE_LOCKED for another connection's.
 */
export interface QueueOwnerRef {
  connection: number;
  node: string | undefined;
}

/**
 * Records an authority stores beside exchanges, queues and bindings. Core's own TopologyRecord covers vhosts,
 * users, permissions and topic permissions; policies and parameters are accepted (RabbitMQ's definitions carry
 * them) though Warren does not act on them yet.
 */
export type ClaimedRecord =
  | TopologyRecord
  | { kind: 'policy'; vhost: string; name: string; definition: unknown }
  | { kind: 'parameter'; component: string; vhost: string | undefined; name: string; value: unknown };

/** One topology change a node asks the cluster to make. */
export type TopologyChange =
  | {
      kind: 'declare-exchange';
      vhost: string;
      name: string;
      type: string;
      durable: boolean;
      autoDelete: boolean;
      internal: boolean;
      arguments: FieldTable;
      passive: boolean;
    }
  | { kind: 'delete-exchange'; vhost: string; name: string; ifUnused: boolean }
  | {
      kind: 'declare-queue';
      vhost: string;
      name: string;
      durable: boolean;
      exclusive: boolean;
      autoDelete: boolean;
      arguments: FieldTable;
      passive: boolean;
      /**
       * The declaring connection: the owner of an exclusive queue, and who may use one; undefined for an
       * operator's declare (management API, definitions import), which is never exclusive.
       */
      owner: QueueOwnerRef | undefined;
    }
  | {
      kind: 'delete-queue';
      vhost: string;
      name: string;
      ifUnused: boolean;
      ifEmpty: boolean;
      /** The deleting connection (undefined: an operator, who may delete anyone's queue). */
      owner: QueueOwnerRef | undefined;
    }
  | ({ kind: 'bind' } & BindingChange)
  | ({ kind: 'unbind' } & BindingChange)
  | { kind: 'put-record'; record: ClaimedRecord }
  | { kind: 'delete-record'; record: ClaimedRecord };

export interface BindingChange {
  vhost: string;
  source: string;
  destination: string;
  destinationKind: 'queue' | 'exchange';
  routingKey: string;
  arguments: FieldTable;
}

/**
 * The cluster's say over topology (issue 16). `claim` resolves once the change is stored cluster-wide AND
 * applied on every live node, this one included, so the caller's own local apply after it must be idempotent
 * (and is: a declare of what exists, a binding that exists, a delete of what is gone all change nothing). It
 * rejects with a WarrenError from the catalogue (PRECONDITION_FAILED for a non-equivalent redeclare,
 * NOT_FOUND for a passive declare of something absent, ACCESS_REFUSED, RESOURCE_LOCKED for another
 * connection's exclusive queue), which the protocols report as they report any core error.
 *
 * A broker without one (a single node, the default) applies every change synchronously as it always has.
 */
export interface TopologyAuthority {
  claim(change: TopologyChange): Promise<void>;
}

/** Claims `changes` one after another (a definitions import keeps its order); stops at the first rejection. */
export async function claimInOrder(
  authority: TopologyAuthority,
  changes: Iterable<TopologyChange>,
): Promise<void> {
  for (const change of changes) await authority.claim(change);
}

/**
 * The name a queue.declare gets: `name`, or for an empty name a server-chosen amq.gen-... one. Chosen before
 * any claim, so the claim, the local apply and the declare-ok all name the same queue.
 */
export function queueNameFor(name: string, args: FieldTable, passive: boolean): string {
  if (name !== '') return name;
  if (!passive) {
    const type = queueTypeOf(args);
    // A quorum queue or a stream is a shared, named log; RabbitMQ names no such queue for a client.
    if (type === 'quorum' || type === 'stream') {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `Cannot declare a server-named queue for type ${QUEUE_TYPE_MODULE[type]}`,
      );
    }
  }
  return serverName('amq.gen-');
}

/** amq.gen-/amq.ctag- names: 16 random bytes, base64url, as unguessable as RabbitMQ's. */
export function serverName(prefix: string): string {
  return prefix + randomBytes(16).toString('base64url');
}
