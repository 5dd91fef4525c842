import {
  UntranslatableMessage,
  type Channel,
  type Consumer,
  type ConsumerSink,
  type Delivery,
  type Message,
  type QueueEntry,
} from '@warren/core';
import { escapeHeader } from '../codec/escape';
import type { StompVersion } from '../codec/frame';
import { selectorValue } from '../mapping/selector-lookup';
import type { Selector, SelectorValue } from '../selector';
import { messageBlock, type MessageBlock } from './message-block';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** What a subscription needs from its session to put a MESSAGE on the wire. */
export interface MessageWriter {
  readonly version: StompVersion;
  /** Writes [head, shared block, body, NUL] as one corked frame. */
  writeMessage(head: string, block: Buffer, body: Buffer): void;
  /** The queue behind a subscription went away (deleted by someone else). */
  subscriptionCancelled(sub: Subscription): void;
}

export interface SubscriptionSpec {
  /** The `id` header, or for a subscription without one (STOMP 1.0) its destination. */
  readonly id: string;
  /** False for a subscription without `id`: its MESSAGEs carry no subscription header (RabbitMQ). */
  readonly hasId: boolean;
  readonly destination: string;
  readonly ackMode: AckMode;
  readonly selector: Selector | undefined;
  /** Whether the queue serves only this subscription (topic, exchange, temp-queue). */
  readonly privateQueue: boolean;
  /** A durable topic subscription's queue: deleted on UNSUBSCRIBE with durable:true / persistent:true. */
  readonly durableQueue: string | undefined;
}

/**
 * One SUBSCRIBE: a core consumer whose sink writes MESSAGE frames. The per-delivery part of a MESSAGE head is
 * a string built from lines escaped once here; the message-level part is shared (message-block.ts).
 *
 * message-id (and ack, 1.2) is RabbitMQ's shape, `T_<id>@@<session>@@<delivery tag>` (`Q_<destination>...` for
 * a subscription without id), so ACK needs only the number after the last "@@".
 */
export class Subscription implements ConsumerSink {
  consumer: Consumer | undefined = undefined;
  private readonly subscriptionLine: string;
  private readonly messageIdPrefix: string;
  private readonly ackPrefix: string;
  private readonly autoAck: boolean;
  /** The message under selector evaluation: one lookup function per subscription, none per message. */
  private current: Message | undefined = undefined;
  private readonly lookup: (name: string) => SelectorValue;

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly channel: Channel,
    private readonly out: MessageWriter,
    sessionId: string,
  ) {
    const v = out.version;
    const handle = `${spec.hasId ? 'T_' : 'Q_'}${spec.id}@@${sessionId}@@`;
    this.subscriptionLine = spec.hasId ? `subscription:${escapeHeader(spec.id, v, false)}\n` : '';
    this.messageIdPrefix = `message-id:${escapeHeader(handle, v, false)}`;
    // STOMP 1.2 "MESSAGE": an `ack` header when the subscription needs acknowledgement.
    this.ackPrefix = v === '1.2' && spec.ackMode !== 'auto' ? `ack:${escapeHeader(handle, v, false)}` : '';
    this.autoAck = spec.ackMode === 'auto';
    this.lookup = (name) => selectorValue(this.current as Message, name);
  }

  /** Whether the core consumer must be acked by us rather than run no-ack (see shared-queue selectors). */
  get coreNoAck(): boolean {
    return this.autoAck && (this.spec.selector === undefined || this.spec.privateQueue);
  }

  /**
   * The queue's filter for a shared-queue selector. A message whose properties cannot be read is accepted, so
   * deliver() settles it as untranslatable instead of it sitting at the head of the queue for ever.
   */
  matches(msg: Message): boolean {
    try {
      return this.selects(msg);
    } catch {
      return true;
    }
  }

  private selects(msg: Message): boolean {
    const selector = this.spec.selector;
    if (selector === undefined) return true;
    this.current = msg;
    try {
      return selector.matches(this.lookup);
    } finally {
      this.current = undefined;
    }
  }

  deliver(delivery: Delivery, consumer: Consumer): void {
    const msg = delivery.msg;
    let shared: MessageBlock | undefined;
    try {
      // Both read the message's properties, decoded lazily from another protocol's raw bytes: the first use
      // may throw. That fails this message for this subscriber, never the queue's dispatch or the session.
      shared = this.selects(msg) ? messageBlock(msg, this.out.version) : undefined;
    } catch (error) {
      // The core rejects it (dead-letter exchange or drop), counts and logs it; this subscription carries on.
      throw new UntranslatableMessage(
        `cannot build a STOMP MESSAGE: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
    if (shared === undefined) {
      this.skip(delivery, consumer);
      return;
    }
    const tag = delivery.tag;
    let head = `MESSAGE\n${this.subscriptionLine}${shared.destinationLine}${this.messageIdPrefix}${tag}\nredelivered:${delivery.redelivered ? 'true' : 'false'}\n`;
    if (this.ackPrefix !== '') head += `${this.ackPrefix}${tag}\n`;
    // The delivery count (times this queue handed the message out before), visible as quorum queues show it,
    // and what the queue adds to this delivery (a stream's x-stream-offset).
    if (delivery.deliveryCount > 1) head += `x-delivery-count:${delivery.deliveryCount - 1}\n`;
    const extra = delivery.queue.deliveryHeaders(delivery);
    if (extra !== undefined) {
      for (const name in extra) {
        if (name !== 'x-delivery-count') head += `${name}:${String(extra[name])}\n`;
      }
    }
    this.out.writeMessage(head, shared.block, msg.body);
    if (this.autoAck && !consumer.noAck) this.channel.settle([delivery], 'ack');
  }

  cancelledByBroker(_consumer: Consumer): void {
    this.out.subscriptionCancelled(this);
  }

  /**
   * A message the selector refuses. On a queue of its own the subscription drops it (a topic subscriber never
   * sees what it filtered out). On a shared queue it goes back for other consumers; `sharedQueueCredit` keeps
   * such messages from being offered here in the first place, so this is the rare case of an expired head.
   */
  private skip(delivery: QueueEntry, consumer: Consumer): void {
    if (consumer.noAck) return;
    this.channel.settle([delivery], this.spec.privateQueue ? 'ack' : 'requeue');
  }
}
