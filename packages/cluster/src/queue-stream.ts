/*
 * A durable queue as one JetStream work-queue stream with one durable pull consumer shared by every node.
 *
 *   stream   WQ_<vhost>~<queue> (key-codec.ts)   subject warren.q.<vhost>.<queue>
 *            retention workqueue (an acked message is removed), file storage, R = replicas,
 *            duplicate_window 2 min (Nats-Msg-Id dedup of a publish retried across a failover),
 *            max_msgs / max_bytes / max_age / max_msg_size / max_msgs_per_subject unlimited, discard old:
 *            a queue's length limits are Warren's (x-max-length) to enforce, not the stream's.
 *   consumer "warren": pull, ack explicit, ack_wait = ackWaitMs, deliver all,
 *            max_deliver -1 (RabbitMQ redelivers forever; delivery-limit is Warren's to apply),
 *            max_ack_pending -1 (the default of 1000 would stall a queue with more unacked messages than
 *            that across all its consumers; per-consumer prefetch is the ConsumeLoop's credit),
 *            max_waiting 4096 (default 512 pull requests waiting: nodes x queues' loops),
 *            max_batch / max_expires unset (no cap on one request).
 * Every node calls ensure() for the queues it serves; the first creates, the others find what it made (and
 * raise a consumer's settings that differ, e.g. an older ack_wait).
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { ClusterConnection } from './connection';
import { ConsumeLoop, type ConsumeHandle, type ConsumeOptions } from './consume-loop';
import type { Delivery } from './delivery';
import { queueStreamName, queueSubject } from './key-codec';
import { Publisher, PublishError, PublishTimeout } from './publisher';
import { PullSession, type PullRequestOptions } from './pull-session';

export const CONSUMER_NAME = 'warren';
export const DUPLICATE_WINDOW_MS = 120_000;
export const MAX_WAITING_PULLS = 4096;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;

export interface QueueStreamOptions {
  vhost: string;
  queue: string;
  /** Stream replicas; capped at the cluster's size (a 1-server test cluster gets R1). */
  replicas: number;
  /** How long a delivery may stay unacked before the server redelivers it, ms. */
  ackWaitMs: number;
}

export interface PublishResult {
  seq: number;
  /** The stream already had this msgId within the duplicate window: nothing new was stored. */
  duplicate: boolean;
}

export interface PublishOptions {
  /** Wait for one PubAck, ms (default 5000). */
  timeoutMs?: number;
  /**
   * Retry with the same msgId (so the stream stores the message at most once) while the stream cannot
   * answer (no leader yet, a server just killed), until this many ms after the first try (default 0: once).
   */
  retryForMs?: number;
}

export class QueueStream {
  readonly subject: string;
  private readonly nextSubject: string;

  private constructor(
    private readonly conn: ClusterConnection,
    readonly name: string,
    readonly vhost: string,
    readonly queue: string,
  ) {
    this.subject = queueSubject(vhost, queue);
    this.nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${name}.${CONSUMER_NAME}`;
  }

  static async ensure(conn: ClusterConnection, options: QueueStreamOptions): Promise<QueueStream> {
    const name = queueStreamName(options.vhost, options.queue);
    const qs = new QueueStream(conn, name, options.vhost, options.queue);
    const replicas = Math.max(1, Math.min(options.replicas, await clusterSize(conn)));
    const stream: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [qs.subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msg_size: -1,
      max_msgs_per_subject: -1,
      max_consumers: -1,
      discard: DiscardPolicy.Old,
    };
    await createOrFind(
      () => conn.jsm.streams.add(stream),
      () => conn.jsm.streams.info(name),
    );
    const consumer: Partial<ConsumerConfig> = {
      durable_name: CONSUMER_NAME,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(options.ackWaitMs),
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      max_deliver: -1,
      max_ack_pending: -1,
      max_waiting: MAX_WAITING_PULLS,
    };
    const info = await createOrFind(
      () => conn.jsm.consumers.add(name, consumer),
      () => conn.jsm.consumers.info(name, CONSUMER_NAME),
    );
    const c = info.config;
    if (c.ack_wait !== consumer.ack_wait || c.max_ack_pending !== -1 || c.max_deliver !== -1) {
      await conn.jsm.consumers.update(name, CONSUMER_NAME, {
        ack_wait: consumer.ack_wait,
        max_ack_pending: -1,
        max_deliver: -1,
      });
    }
    return qs;
  }

  /** Stores one message; resolves once the stream's quorum has it (a publisher confirm). */
  async publish(bytes: Uint8Array, msgId: string, opts: PublishOptions = {}): Promise<PublishResult> {
    const publisher = publisherOf(this.conn);
    const deadline = Date.now() + (opts.retryForMs ?? 0);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    let backoff = 50;
    for (;;) {
      try {
        return await publisher.publish(this.subject, bytes, msgId, timeoutMs);
      } catch (err) {
        if (!retryable(err) || this.conn.nc.isClosed() || Date.now() + backoff > deadline) throw err;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(1000, backoff * 2);
      }
    }
  }

  /** One pull request: up to n messages; with noWait (basic.get) only those there now. */
  pull(n: number, opts: PullRequestOptions = {}): Promise<Delivery[]> {
    return new Promise((resolve, reject) => {
      const out: Delivery[] = [];
      const session = new PullSession(this.conn.nc, this.nextSubject, reject);
      session.request(
        n,
        opts,
        (d) => out.push(d),
        (end) => {
          session.close();
          if (end.reason === 'status')
            reject(new Error(`pull request failed: ${end.code} ${end.description}`));
          else if (end.reason === 'lost' && out.length === 0) reject(new Error('pull request got no answer'));
          else resolve(out);
        },
      );
    });
  }

  /** Starts this node's consume loop (see consume-loop.ts). */
  consume(options: ConsumeOptions): ConsumeHandle {
    const loop = new ConsumeLoop(this.conn.nc, this.nextSubject, options, () => this.conn.connected);
    const off = this.conn.onReconnect(() => loop.kick());
    return {
      addCredit: (n) => loop.addCredit(n),
      get credit() {
        return loop.credit;
      },
      get pending() {
        return loop.pending;
      },
      get unacked() {
        return loop.unacked;
      },
      stop: () => {
        off();
        loop.stop();
      },
    };
  }

  /** Messages stored and not yet acked (ready + unacked, as RabbitMQ's `messages`). */
  async messageCount(): Promise<number> {
    return (await this.stored()).messages;
  }

  /**
   * Messages not yet acked (ready + unacked), and what the stream keeps per message (envelope, subject and
   * headers with the body). The count is the consumer's, not the stream's: its leader applies an ack before it
   * answers it, while the stream removes the acked message a moment later (an R3 stream's info can still
   * count it). `settled` says the two agreed; they differ while acks or publishes are on their way.
   */
  async stored(): Promise<{ messages: number; bytesPerMessage: number; settled: boolean }> {
    const [stream, consumer] = await Promise.all([
      this.conn.jsm.streams.info(this.name),
      this.conn.jsm.consumers.info(this.name, CONSUMER_NAME),
    ]);
    const { messages: stored, bytes } = stream.state;
    const messages = consumer.num_pending + consumer.num_ack_pending;
    return { messages, bytesPerMessage: stored > 0 ? bytes / stored : 0, settled: messages === stored };
  }

  /** Messages not yet handed to any node: a queue's ready count (RabbitMQ's messages_ready). */
  async readyCount(): Promise<number> {
    return (await this.conn.jsm.consumers.info(this.name, CONSUMER_NAME)).num_pending;
  }

  /** Messages delivered and not yet acked, over every node. */
  async unackedCount(): Promise<number> {
    return (await this.conn.jsm.consumers.info(this.name, CONSUMER_NAME)).num_ack_pending;
  }

  /** The server that leads the stream's replicas now, undefined while there is none. */
  async leader(): Promise<string | undefined> {
    const leader = (await this.conn.jsm.streams.info(this.name)).cluster?.leader;
    return leader === undefined || leader === '' ? undefined : leader;
  }

  /** Removes every message; resolves with how many there were. */
  async purge(): Promise<number> {
    return (await this.conn.jsm.streams.purge(this.name)).purged;
  }

  async delete(): Promise<void> {
    await this.conn.jsm.streams.delete(this.name);
  }
}

/**
 * Whether a failed publish may succeed if tried again: nobody answered in time, or JetStream answered 503
 * (no responders, no leader, no quorum). Any other answer (stream gone, message too large) is final, and
 * so is an error of the connection itself (closed).
 */
export function retryable(err: unknown): boolean {
  return (err instanceof PublishError || err instanceof PublishTimeout) && err.retryable;
}

const publishers = new WeakMap<ClusterConnection, Publisher>();

/** One Publisher (one reply subscription) per connection, shared by every queue stream on it. */
export function publisherOf(conn: ClusterConnection): Publisher {
  let p = publishers.get(conn);
  if (p === undefined) {
    const created = new Publisher(conn.nc);
    publishers.set(conn, created);
    void conn.nc.closed().then(() => created.close());
    p = created;
  }
  return p;
}

/**
 * Servers in the cluster, as the server's INFO advertises them (connect_urls lists every server's client
 * URL, its own included). Absent (a lone server, or no_advertise): 1, and a lone server's refusal of R>1
 * (JetStream error 10074) is not met.
 */
export async function clusterSize(conn: ClusterConnection): Promise<number> {
  await conn.nc.flush();
  const servers = conn.nc.info?.connect_urls?.length;
  return servers !== undefined && servers > 0 ? servers : 1;
}

/**
 * Create, or find what another node created. Two nodes racing: the loser's create fails ("already in use")
 * or succeeds (same config, the server answers with what exists); either way the find then tells.
 */
export async function createOrFind<T>(create: () => Promise<T>, find: () => Promise<T>): Promise<T> {
  try {
    return await find();
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
  }
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) throw err;
    return await find();
  }
}
