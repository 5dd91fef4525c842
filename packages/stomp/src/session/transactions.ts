import type { Message, QueueEntry } from '@warren/core';
import { StompFailure } from './stomp-failure';

export type SettleKind = 'ack' | 'requeue' | 'reject';

type TxOp =
  | { readonly kind: 'send'; readonly exchange: string; readonly msg: Message }
  | { readonly kind: 'settle'; readonly entries: QueueEntry[]; readonly how: SettleKind };

/** What a commit applies its operations to: the session's channel, outside any core transaction. */
export interface TxTarget {
  publishNow(exchange: string, msg: Message): void;
  settleNow(entries: QueueEntry[], how: SettleKind): void;
}

/**
 * STOMP transactions (STOMP 1.2 "BEGIN"/"COMMIT"/"ABORT"): any number per session, each named by the client.
 * SEND, ACK and NACK inside one are buffered here and applied in order at COMMIT, in one synchronous run, so no
 * other client observes a half-applied transaction; ABORT and disconnect drop them. Acks buffered here mark
 * their deliveries `settling`, so the same delivery cannot be acked again meanwhile.
 *
 * The core channel's own transaction is not used: it allows one per channel and excludes the durable
 * receipts that persistent SENDs need outside transactions.
 */
export class StompTransactions {
  private readonly open = new Map<string, TxOp[]>();
  private ops = 0;

  constructor(private readonly maxOps: number) {}

  begin(id: string): void {
    // STOMP 1.2 "BEGIN": the identifier names a new transaction; reusing a live one is an error.
    if (this.open.has(id))
      throw new StompFailure('Bad transaction', `Transaction "${id}" is already in progress`);
    this.open.set(id, []);
  }

  send(id: string, exchange: string, msg: Message): void {
    this.get(id).push({ kind: 'send', exchange, msg });
    this.grow(1);
  }

  settle(id: string, entries: QueueEntry[], how: SettleKind): void {
    const ops = this.get(id);
    this.grow(entries.length);
    for (const e of entries) e.settling = true;
    ops.push({ kind: 'settle', entries, how });
  }

  /** Applies the transaction; returns the messages it published (for receipts that wait for the store). */
  commit(id: string, target: TxTarget): Message[] {
    const ops = this.take(id);
    const sent: Message[] = [];
    for (const op of ops) {
      if (op.kind === 'send') {
        target.publishNow(op.exchange, op.msg);
        sent.push(op.msg);
      } else {
        for (const e of op.entries) e.settling = false;
        target.settleNow(op.entries, op.how);
      }
    }
    return sent;
  }

  abort(id: string): void {
    this.release(this.take(id));
  }

  /** Disconnect: every open transaction is dropped (STOMP 1.2 "BEGIN": aborted when the client disconnects). */
  abortAll(): void {
    for (const ops of this.open.values()) this.release(ops);
    this.open.clear();
    this.ops = 0;
  }

  has(id: string): boolean {
    return this.open.has(id);
  }

  private get(id: string): TxOp[] {
    const ops = this.open.get(id);
    if (ops === undefined) throw unknown(id);
    return ops;
  }

  private take(id: string): TxOp[] {
    const ops = this.get(id);
    this.open.delete(id);
    for (const op of ops) this.ops -= op.kind === 'send' ? 1 : op.entries.length;
    return ops;
  }

  private release(ops: TxOp[]): void {
    for (const op of ops) if (op.kind === 'settle') for (const e of op.entries) e.settling = false;
  }

  private grow(n: number): void {
    this.ops += n;
    // Bounded like the core's transactions: buffered operations across the session's transactions.
    if (this.ops > this.maxOps) {
      throw new StompFailure(
        'Transaction too large',
        `More than ${this.maxOps} operations buffered in transactions`,
        true,
      );
    }
  }
}

function unknown(id: string): StompFailure {
  return new StompFailure('Bad transaction', `Invalid transaction identifier: "${id}"\n`);
}
