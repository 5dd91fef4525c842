import type { Channel } from './channel';
import { WarrenError } from './errors';
import type { Message } from './message';
import type { QueueEntry } from './queue-entry';

type SettleKind = 'ack' | 'requeue' | 'reject';

type TxOp =
  | { kind: 'publish'; exchange: string; msg: Message; mandatory: boolean }
  | { kind: 'settle'; entries: QueueEntry[]; how: SettleKind };

/**
 * AMQP tx / STOMP BEGIN..COMMIT: publishes and acks are buffered and applied in order at commit, dropped at
 * rollback. Buffered acks mark their deliveries `settling` so the same delivery cannot be acked twice.
 * Bounded: a transaction that grows past the limit is refused rather than allowed to eat the broker.
 */
export class Transaction {
  private ops: TxOp[] = [];
  private size = 0;

  constructor(
    private readonly channel: Channel,
    private readonly maxOps: number,
  ) {}

  publish(exchange: string, msg: Message, mandatory: boolean): void {
    this.grow(1);
    this.ops.push({ kind: 'publish', exchange, msg, mandatory });
  }

  settle(entries: QueueEntry[], how: SettleKind): void {
    this.grow(entries.length);
    for (const e of entries) e.settling = true;
    this.ops.push({ kind: 'settle', entries, how });
  }

  commit(): void {
    const ops = this.ops;
    this.reset();
    for (const op of ops) {
      if (op.kind === 'publish') {
        // An exchange deleted since the publish makes the message unroutable, as if published now.
        if (this.channel.vhost.exchanges.has(op.exchange))
          this.channel.route(op.exchange, op.msg, op.mandatory, 0);
      } else {
        this.channel.settle(op.entries, op.how);
      }
    }
  }

  rollback(): void {
    for (const op of this.ops) if (op.kind === 'settle') for (const e of op.entries) e.settling = false;
    this.reset();
  }

  private grow(n: number): void {
    if (this.size + n > this.maxOps) {
      throw new WarrenError('PRECONDITION_FAILED', `transaction exceeds ${this.maxOps} operations`);
    }
    this.size += n;
  }

  private reset(): void {
    this.ops = [];
    this.size = 0;
  }
}
