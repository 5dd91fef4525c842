import {
  Transaction,
  TransactionBudget,
  type Channel,
  type Message,
  type QueueEntry,
  type SettleKind,
} from '@warren/core';
import { StompFailure } from './stomp-failure';

/**
 * STOMP transactions (STOMP 1.2 "BEGIN"/"COMMIT"/"ABORT"): any number per session, each named by the client,
 * each one of the core's Transactions; one budget bounds what they buffer together. A SEND's receipt is a mark
 * of its transaction: the client gets it after COMMIT has routed the message (and the store has it, for a
 * stored one), never before and never after ABORT, as RabbitMQ sends it. Disconnect drops them all.
 */
export class StompTransactions {
  private readonly open = new Map<string, Transaction<string>>();
  private readonly budget: TransactionBudget;

  constructor(
    maxOps: number,
    private readonly channel: Channel,
  ) {
    this.budget = new TransactionBudget(
      maxOps,
      (max) =>
        new StompFailure(
          'Transaction too large',
          `More than ${max} operations buffered in transactions`,
          true,
        ),
    );
  }

  begin(id: string): void {
    // STOMP 1.2 "BEGIN": the identifier names a new transaction; reusing a live one is an error.
    if (this.open.has(id))
      throw new StompFailure('Bad transaction', `Transaction "${id}" is already in progress`);
    this.open.set(id, new Transaction<string>(this.budget));
  }

  /** A SEND inside `id`; `receipt` is sent once the commit has published it. */
  send(id: string, exchange: string, msg: Message, receipt: string | undefined): void {
    this.channel.publishIn(this.get(id), exchange, msg, receipt);
  }

  settle(id: string, entries: QueueEntry[], how: SettleKind): void {
    this.get(id).settle(entries, how);
  }

  /**
   * Applies the transaction. Returns the receipts its SENDs asked for, in order, and whether any of its messages
   * is being written to the store (those receipts, and the COMMIT's own, then wait for it).
   */
  commit(id: string): { receipts: string[]; durable: boolean } {
    const tx = this.get(id);
    this.open.delete(id);
    const done = tx.commit(this.channel);
    return { receipts: done.marks, durable: done.published.some((m) => m.stored) };
  }

  abort(id: string): void {
    const tx = this.get(id);
    this.open.delete(id);
    tx.rollback();
  }

  /** Disconnect: every open transaction is dropped (STOMP 1.2 "BEGIN": aborted when the client disconnects). */
  abortAll(): void {
    for (const tx of this.open.values()) tx.rollback();
    this.open.clear();
  }

  has(id: string): boolean {
    return this.open.has(id);
  }

  private get(id: string): Transaction<string> {
    const tx = this.open.get(id);
    if (tx === undefined)
      throw new StompFailure('Bad transaction', `Invalid transaction identifier: "${id}"\n`);
    return tx;
  }
}
