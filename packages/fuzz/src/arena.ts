import { Broker, Message, type Delivery } from '@warren/core';
import { CoreClient } from '@warren/testkit';
import { StompPeer } from './stomp-peer';
import { connectBytes } from './stomp-wire';
import { CONTROL_QUEUE, WATCHED_TOPIC } from './names';
import { settle, type EscapeWatch } from './escapes';
import { invariant } from './target';

/** A fuzzed client of either protocol, as the arena drives it. */
export interface HostilePeer {
  send(chunk: Buffer): void;
  close(): void;
  /** Throws when the server wrote something its protocol's parser refuses. */
  checkOutput(): void;
}

export { CONTROL_QUEUE, WATCHED_TOPIC };

/** Bodies a fuzzed client cannot guess: the control client's traffic is recognised by them. */
const CONTROL_PREFIX = 'control\u0000a9f3c1e7\u0000';

/**
 * A fresh broker for one input (so every input is deterministic and can be shrunk) with one well-behaved client
 * on it: it owns an exclusive queue, publishes into it between the hostile client's chunks and consumes with
 * acks. After the input the arena checks what a user would: the good client got every one of its messages,
 * exactly once and in order; every hostile connection is gone; memory accounting returns to zero once the
 * queues are gone.
 */
export class Arena {
  private published = 0;
  private readonly received: string[] = [];
  private constructor(
    readonly broker: Broker,
    private readonly control: CoreClient,
    private readonly watcher: StompPeer,
  ) {}

  static async open(limits: ConstructorParameters<typeof Broker>[0] = {}): Promise<Arena> {
    const broker = new Broker(limits);
    await broker.start();
    const control = new CoreClient(broker);
    control.declareQueue(CONTROL_QUEUE, {}, { exclusive: true });
    const watcher = new StompPeer(broker);
    watcher.send(connectBytes('1.2'));
    watcher.send(Buffer.from(`SUBSCRIBE\nid:w\ndestination:/topic/${WATCHED_TOPIC}\n\n\0`));
    const arena = new Arena(broker, control, watcher);
    control.channel.consume(
      CONTROL_QUEUE,
      { prefetch: 10 },
      {
        deliver: (d: Delivery) => {
          const body = d.msg.body.toString('latin1');
          if (body.startsWith(CONTROL_PREFIX)) arena.received.push(body.slice(CONTROL_PREFIX.length));
          control.channel.ack(d.tag);
        },
        cancelledByBroker: () => {
          throw new Error('the control queue was deleted by someone else');
        },
      },
    );
    return arena;
  }

  /** The good client publishes one message (between two chunks of hostile input). */
  publishControl(): void {
    const body = Buffer.from(`${CONTROL_PREFIX}${this.published++}`, 'latin1');
    this.control.channel.publish('', Message.fromProperties('', CONTROL_QUEUE, {}, body));
  }

  /**
   * Runs one input: feeds every chunk to every hostile peer, lets the good client publish after the chunks named
   * in `controlAfter` (and once at the end), lets deferred work run now and then, closes the peers, and checks
   * the invariants: each peer's output parsed, nothing escaped into the event loop, and check() below.
   */
  async play(
    peers: readonly HostilePeer[],
    chunks: readonly Buffer[],
    controlAfter: readonly number[],
    watch: EscapeWatch,
  ): Promise<void> {
    for (let i = 0; i < chunks.length; i++) {
      for (const p of peers) p.send(chunks[i] as Buffer);
      if (controlAfter.includes(i)) this.publishControl();
      if (i % 3 === 2) await settle(1);
    }
    this.publishControl();
    await settle();
    for (const p of peers) p.checkOutput();
    for (const p of peers) p.close();
    await settle();
    const escaped = watch.take();
    invariant(escaped.length === 0, () => `escaped into the event loop: ${String(escaped[0])}`);
    this.check();
  }

  /** Checks the invariants after the hostile connections are closed and the broker has settled. */
  check(): void {
    const expected = Array.from({ length: this.published }, (_, i) => String(i));
    invariant(
      this.received.join(',') === expected.join(','),
      () => `the control client lost or duplicated messages: got [${this.received.join(',')}]`,
    );
    invariant(!this.control.connection.closed, () => 'the control client was disconnected');
    this.watcher.checkOutput();
    invariant(
      this.watcher.errors === 0 && !this.watcher.transport.closed,
      () => `the watching STOMP subscriber got ${this.watcher.errors} ERROR(s) from someone else's traffic`,
    );
    invariant(
      this.broker.connections.size === 2,
      () => `${this.broker.connections.size - 2} hostile connection(s) outlived their transport`,
    );
    this.watcher.close();
    for (const vhost of this.broker.vhosts.values()) {
      for (const q of [...vhost.queues.values()]) if (q.name !== CONTROL_QUEUE) vhost.removeQueue(q);
    }
    invariant(
      this.broker.memory.used === 0,
      () => `${this.broker.memory.used} bytes still accounted after every queue is gone`,
    );
  }

  async close(): Promise<void> {
    this.watcher.close();
    this.control.close();
    for (const vhost of this.broker.vhosts.values()) {
      for (const q of [...vhost.queues.values()]) vhost.removeQueue(q);
    }
    await this.broker.close();
  }
}
