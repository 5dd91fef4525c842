/*
 * Queues that live on one node of a cluster: exclusive ones (their owner's connection is on that node) and
 * auto-delete ones (deleted when that node's last consumer leaves). The cluster's topology names their home
 * node; every other node holds a RemoteQueue in their place, which forwards what routes to it over core NATS:
 *
 *   subject  := "warren.home." node "." vhost "." queue     each a key-codec token
 *   payload  := envelope (envelope.ts)
 *
 * Core NATS is at most once: a node that is gone takes its exclusive queues with it, as RabbitMQ's do, and a
 * message forwarded to one in that moment is lost with them. Nothing here is durable, so nothing waits.
 */
import {
  Queue,
  WarrenError,
  type Consumer,
  type Message,
  type QueueHost,
  type QueueOptions,
  type QueueOwner,
  type QueueSettings,
} from '@warren/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { envelopeOf } from './envelope';
import { decodeToken, encodeToken } from './key-codec';

const HOME_PREFIX = 'warren.home';

/** The subject a home node listens on for every queue it holds (one subscription per node). */
export function homeSubjects(node: string): string {
  return `${HOME_PREFIX}.${encodeToken(node)}.*.*`;
}

function homeSubject(node: string, vhost: string, queue: string): string {
  return `${HOME_PREFIX}.${encodeToken(node)}.${encodeToken(vhost)}.${encodeToken(queue)}`;
}

/** The vhost and queue a forwarded message is for, from its subject. */
export function parseHomeSubject(subject: string): { vhost: string; queue: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5) return undefined;
  return { vhost: decodeToken(parts[3]!), queue: decodeToken(parts[4]!) };
}

/**
 * A node-local queue on its home node: a plain local queue that, once gone (its owner closed, its last
 * consumer left, a delete), takes its record and bindings out of the cluster's topology.
 */
export class HomeQueue extends Queue {
  constructor(
    host: QueueHost,
    name: string,
    options: QueueOptions,
    settings: QueueSettings,
    owner: QueueOwner | undefined,
    private readonly onGone: (q: HomeQueue) => void,
  ) {
    super(host, name, options, settings, owner);
  }

  /** A cluster node keeps no journal: a node-local queue dies with its node, as its owner's connection does. */
  override stores(): boolean {
    return false;
  }

  override destroy(notifyConsumers: boolean): number {
    const count = super.destroy(notifyConsumers);
    this.onGone(this);
    return count;
  }
}

/** Holds another node's queues for the exclusivity checks of this one: nobody here may use them. */
const ELSEWHERE: QueueOwner = { id: -1, forgetQueue: () => {} };

/**
 * Another node's node-local queue, as this node routes to it: what an exchange here routes to it is forwarded
 * to the home node. Clients here cannot consume from it (an exclusive queue is its owner's; an auto-delete
 * one is consumed on its node), so it is held by no connection of this node: a declare, a consume or a get
 * is RESOURCE_LOCKED.
 */
export class RemoteQueue extends Queue {
  private readonly subject: string;

  constructor(
    host: QueueHost,
    name: string,
    options: QueueOptions,
    settings: QueueSettings,
    readonly home: string,
    private readonly nc: NatsConnection,
  ) {
    super(host, name, { ...options, exclusive: true }, settings, ELSEWHERE);
    this.subject = homeSubject(home, host.name, name);
  }

  override stores(): boolean {
    return false;
  }

  override enqueue(msg: Message): boolean {
    if (this.deleted) return false;
    try {
      this.nc.publish(this.subject, envelopeOf(msg));
      this.stats.published++;
    } catch (err) {
      // Closed or draining: the home node is unreachable from here, and at most once means dropped.
      this.vhost.logger.debug(
        { err, queue: this.name, home: this.home },
        'forwarding to a node-local queue failed',
      );
    }
    return true;
  }

  override addConsumer(_consumer: Consumer): void {
    throw new WarrenError(
      'RESOURCE_LOCKED',
      `${this.where} lives on node ${this.home}: consume from it there`,
    );
  }
}
