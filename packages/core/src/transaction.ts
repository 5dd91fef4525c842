import { WarrenError } from './errors';
import type { Message } from './message';
import type { QueueEntry } from './queue-entry';

export type SettleKind = 'ack' | 'requeue' | 'reject';

/**
 * What a commit applies its operations to: a channel, outside any transaction. Publishes to an exchange
 * deleted since are unroutable, as if published now.
 */
export interface TransactionTarget {
  publishNow(exchange: string, msg: Message, mandatory: boolean): void;
  settleNow(entries: QueueEntry[], how: SettleKind): void;
}

/**
 * The operations buffered in transactions, bounded: per AMQP channel, or across all of one STOMP session's
 * transactions. Past `max` the operation is refused with `refuse()`'s error and nothing is buffered.
 */
export class TransactionBudget {
  private used = 0;

  constructor(
    readonly max: number,
    private readonly refuse: (max: number) => Error = (max) =>
      new WarrenError('PRECONDITION_FAILED', `transaction exceeds ${max} operations`),
  ) {}

  take(n: number): void {
    if (this.used + n > this.max) throw this.refuse(this.max);
    this.used += n;
  }

  give(n: number): void {
    this.used -= n;
  }
}

type TxOp<Mark> =
  | { kind: 'publish'; exchange: string; msg: Message; mandatory: boolean; mark: Mark | undefined }
  | { kind: 'settle'; entries: QueueEntry[]; how: SettleKind };

/** What a commit did: the messages it published and the marks given with them, in order. */
export interface Committed<Mark> {
  published: Message[];
  marks: Mark[];
}

/**
 * A transaction, for AMQP tx.select and for each STOMP BEGIN..COMMIT alike: publishes and settlements are
 * buffered and applied in order at commit, in one synchronous run, so no other client observes half of it;
 * rollback drops them. Buffered settlements mark their deliveries `settling`, so the same delivery cannot be
 * settled twice meanwhile.
 *
 * A publish may carry a mark, handed back by commit in order: what a protocol owes the client once the publish
 * has really happened, such as a STOMP SEND's receipt, which is sent after COMMIT, never before it (and never
 * after ABORT), as RabbitMQ does.
 */
export class Transaction<Mark = never> {
  private ops: TxOp<Mark>[] = [];
  private size = 0;

  constructor(private readonly budget: TransactionBudget) {}

  publish(exchange: string, msg: Message, mandatory: boolean, mark?: Mark): void {
    this.budget.take(1);
    this.size += 1;
    this.ops.push({ kind: 'publish', exchange, msg, mandatory, mark });
  }

  settle(entries: QueueEntry[], how: SettleKind): void {
    this.budget.take(entries.length);
    this.size += entries.length;
    for (const e of entries) e.settling = true;
    this.ops.push({ kind: 'settle', entries, how });
  }

  commit(target: TransactionTarget): Committed<Mark> {
    const ops = this.ops;
    this.reset();
    const done: Committed<Mark> = { published: [], marks: [] };
    for (const op of ops) {
      if (op.kind === 'publish') {
        target.publishNow(op.exchange, op.msg, op.mandatory);
        done.published.push(op.msg);
        if (op.mark !== undefined) done.marks.push(op.mark);
      } else {
        for (const e of op.entries) e.settling = false;
        target.settleNow(op.entries, op.how);
      }
    }
    return done;
  }

  rollback(): void {
    for (const op of this.ops) if (op.kind === 'settle') for (const e of op.entries) e.settling = false;
    this.reset();
  }

  private reset(): void {
    this.budget.give(this.size);
    this.ops = [];
    this.size = 0;
  }
}
