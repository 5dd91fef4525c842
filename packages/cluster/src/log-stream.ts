/*
 * The JetStream side of a stream queue (x-queue-type=stream): an append-only log every node shares.
 *
 *   stream   LOG_<vhost>~<queue>        limits retention, file storage, R<replicas>
 *            subjects  warren.s.<vhost>.<queue>
 *            max_bytes x-max-length-bytes (or none), max_age x-max-age (or none), discard old
 *   offset   the stream sequence less one (RabbitMQ's offsets start at 0, JetStream's sequences at 1)
 *   reader   one ephemeral pull consumer per AMQP or STOMP consumer, started where its x-stream-offset says:
 *              first -> deliver all       last -> the last sequence when it subscribed (lastOffset)
 *              next  -> a start time: when it subscribed (ReplicatedStream)
 *              N     -> by start sequence N + 1                       a time -> by start time
 *            acked explicitly and never redelivered (max_deliver 1); credit is the consumer's prefetch,
 *            pulled exactly by a ConsumeLoop, and an ack gives one back, as a RabbitMQ stream consumer's does.
 *            The server drops the consumer once it has been idle for a while (inactive_threshold), so one
 *            whose node died goes away by itself.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ConsumerConfig, StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { StreamOffsetSpec } from '@warren/core';
import type { ClusterConnection } from './connection';
import { ConsumeLoop, type ConsumeHandle, type ConsumeOptions } from './consume-loop';
import { logStreamName, logSubject } from './key-codec';
import { clusterSize, createOrFind, publisherOf, type PublishResult } from './queue-stream';

export interface LogStreamOptions {
  vhost: string;
  queue: string;
  replicas: number;
  /** x-max-length-bytes: the oldest messages go once the log is bigger. */
  maxBytes?: number;
  /** x-max-age, ms: messages older go. */
  maxAgeMs?: number;
}

/** How long the server keeps a reader nobody pulls from (its node died, or forgot to delete it). */
const READER_IDLE_MS = 60_000;
/** One pull request's wait on the server: short, as a reader that was closed cannot cancel its request. */
const READER_PULL_EXPIRES_MS = 1000;
/** How long one publish waits for its PubAck. */
const PUBLISH_TIMEOUT_MS = 5000;

export class LogStream {
  private constructor(
    private readonly conn: ClusterConnection,
    readonly name: string,
    readonly subject: string,
  ) {}

  /** Opens the log of a stream queue, creating it if no node has. */
  static async ensure(conn: ClusterConnection, options: LogStreamOptions): Promise<LogStream> {
    const name = logStreamName(options.vhost, options.queue);
    const log = new LogStream(conn, name, logSubject(options.vhost, options.queue));
    const replicas = Math.max(1, Math.min(options.replicas, await clusterSize(conn)));
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [log.subject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      max_msgs: -1,
      max_bytes: options.maxBytes ?? -1,
      max_age: options.maxAgeMs !== undefined ? nanos(options.maxAgeMs) : 0,
      max_msg_size: -1,
      max_msgs_per_subject: -1,
      max_consumers: -1,
      discard: DiscardPolicy.Old,
    };
    await createOrFind(
      () => conn.jsm.streams.add(config),
      () => conn.jsm.streams.info(name),
    );
    return log;
  }

  /** Appends one message; resolves once the log's quorum has it. */
  append(bytes: Uint8Array, msgId: string): Promise<PublishResult> {
    return publisherOf(this.conn).publish(this.subject, bytes, msgId, PUBLISH_TIMEOUT_MS);
  }

  /** Messages in the log now (RabbitMQ counts a stream's messages so). */
  async messageCount(): Promise<number> {
    return (await this.conn.jsm.streams.info(this.name)).state.messages;
  }

  /**
   * Where 'last' is now, as an offset: the last message's, or the next one's if the log holds none. Asked when
   * the consumer subscribes, so a reader made later still starts there, not at whatever is last by then.
   */
  async lastOffset(): Promise<StreamOffsetSpec> {
    const { state } = await this.conn.jsm.streams.info(this.name);
    return { kind: 'offset', offset: state.messages > 0 ? state.last_seq - 1 : state.last_seq };
  }

  /** A reader from `start`, pulling no more than its credit (see ConsumeLoop). */
  async read(start: StreamOffsetSpec, options: ConsumeOptions): Promise<LogReader> {
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      max_deliver: 1,
      max_ack_pending: -1,
      inactive_threshold: nanos(READER_IDLE_MS),
      ...startOf(start),
    };
    const info = await this.conn.jsm.consumers.add(this.name, config);
    const next = `$JS.API.CONSUMER.MSG.NEXT.${this.name}.${info.name}`;
    const loop = new ConsumeLoop(
      this.conn.nc,
      next,
      { expiresMs: READER_PULL_EXPIRES_MS, ...options },
      () => this.conn.connected,
    );
    const off = this.conn.onReconnect(() => loop.kick());
    return new LogReader(loop, () => {
      off();
      loop.stop();
      this.conn.jsm.consumers.delete(this.name, info.name).catch(() => {
        // Gone already, or the connection is: the server drops an idle reader by itself.
      });
    });
  }

  async delete(): Promise<void> {
    await this.conn.jsm.streams.delete(this.name);
  }
}

/** One consumer's place in the log: credit in, deliveries out (their offsets are sequence - 1). */
export class LogReader {
  constructor(
    private readonly loop: ConsumeHandle,
    private readonly stopped: () => void,
  ) {}

  addCredit(n: number): void {
    this.loop.addCredit(n);
  }

  close(): void {
    this.stopped();
  }
}

function startOf(spec: StreamOffsetSpec): Partial<ConsumerConfig> {
  switch (spec.kind) {
    case 'first':
      return { deliver_policy: DeliverPolicy.All };
    case 'last':
      return { deliver_policy: DeliverPolicy.Last };
    case 'next':
      return { deliver_policy: DeliverPolicy.New };
    case 'offset':
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: spec.offset + 1 };
    case 'timestamp':
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(spec.ms).toISOString() };
  }
}
