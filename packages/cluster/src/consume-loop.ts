/*
 * A node's share of a queue: pull requests on the queue's one durable consumer, never asking for more
 * messages than the node's local consumers can take.
 *
 * Credit works as AMQP 1.0 link credit: `credit` is how many more messages this loop may deliver; each
 * delivery uses one; the owner gives more with addCredit (typically one per ack, so credit = prefetch).
 *   invariant: pending (asked of the server, not yet arrived) <= credit
 * so the messages this node holds unsettled never exceed what it was granted, whatever the server does.
 * A new request is sent when nothing is outstanding, or when the credit not yet asked for is at least what is
 * outstanding (requests then at most double: a prefetch of 1000 refilled one ack at a time is not 1000
 * requests in flight, yet the pipe stays full).
 *
 * Failures (a server killed, the consumer's leader moving, no JetStream quorum for a moment) end requests
 * as 'lost' or with a status; the loop asks again after a backoff (100 ms doubling to 2 s, reset by the next
 * message) and reports each failure to onError. Nothing throws out of a timer or a subscription callback.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Delivery } from './delivery';
import { PullSession, type PullEnd } from './pull-session';

export interface ConsumeOptions {
  /** Initial credit. */
  credit: number;
  /** Runs once per message, synchronously; an exception goes to onError, the message stays unsettled. */
  onDelivery: (d: Delivery) => void;
  onError?: (err: unknown) => void;
  /** How long one pull request waits on the server, ms (default 5000). */
  expiresMs?: number;
}

export interface ConsumeHandle {
  addCredit(n: number): void;
  /** Messages this loop may still deliver. */
  readonly credit: number;
  /** Messages asked of the server and not arrived yet (always <= credit). */
  readonly pending: number;
  /** Messages delivered by this loop and not yet acked, nacked or termed. */
  readonly unacked: number;
  stop(): void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;
const GUARD_MS = 1000;

export class ConsumeLoop implements ConsumeHandle {
  private session: PullSession;
  private creditLeft: number;
  private asked = 0;
  private held = 0;
  private stopped = false;
  private backoffMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly guard: ReturnType<typeof setInterval>;
  private readonly onError: (err: unknown) => void;

  constructor(
    nc: NatsConnection,
    nextSubject: string,
    private readonly options: ConsumeOptions,
    private readonly isConnected: () => boolean,
  ) {
    if (!Number.isInteger(options.credit) || options.credit < 0)
      throw new RangeError('credit must be an integer >= 0');
    this.creditLeft = options.credit;
    const report = options.onError;
    this.onError = (err) => {
      try {
        report?.(err);
      } catch {
        // An error handler that throws has nowhere left to report to.
      }
    };
    this.session = new PullSession(nc, nextSubject, this.onError);
    // Liveness guard: with credit to spend, the loop always has a request out or a retry due. Should that
    // ever not hold (a path not thought of), say so and ask again rather than stall the queue on this node.
    this.guard = setInterval(() => {
      if (this.stopped || this.retryTimer !== undefined || this.session.outstanding > 0) return;
      if (this.creditLeft - this.asked <= 0) return;
      this.onError(new Error('consume loop found idle with credit: asking again'));
      try {
        this.pump();
      } catch (err) {
        this.onError(err);
      }
    }, GUARD_MS);
    this.guard.unref();
    this.pump();
  }

  get credit(): number {
    return this.creditLeft;
  }

  get pending(): number {
    return this.asked;
  }

  get unacked(): number {
    return this.held;
  }

  addCredit(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('credit must be an integer >= 0');
    if (this.stopped) return;
    this.creditLeft += n;
    this.pump();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.guard);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.session.close();
  }

  /** Called after a reconnect: requests on the old server are gone or will be given up; ask again now. */
  kick(): void {
    this.backoffMs = 0;
    this.pump();
  }

  private pump(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    if (!this.isConnected()) {
      // kick() on reconnect normally comes first; the timer makes sure the loop never waits on it alone.
      this.retryLater();
      return;
    }
    const want = this.creditLeft - this.asked;
    if (want <= 0) return;
    if (this.session.outstanding > 0 && want < this.asked) return;
    this.asked += want;
    this.session.request(
      want,
      this.options.expiresMs !== undefined ? { expiresMs: this.options.expiresMs } : {},
      (d) => this.deliver(d),
      (end, unfilled) => this.ended(end, unfilled),
      () => {
        this.held--;
      },
    );
  }

  private deliver(d: Delivery): void {
    this.asked--;
    this.creditLeft--;
    this.held++;
    this.backoffMs = 0;
    try {
      this.options.onDelivery(d);
    } catch (err) {
      this.onError(err);
    }
  }

  private ended(end: PullEnd, unfilled: number): void {
    this.asked -= unfilled;
    if (this.stopped) return;
    if (end.reason === 'done' || end.reason === 'expired') {
      this.pump();
      return;
    }
    if (end.reason === 'status') {
      this.onError(new Error(`pull request ended by the server: ${end.code} ${end.description}`));
    } else if (end.reason === 'lost') {
      this.onError(new Error('pull request lost (no heartbeat): asking again'));
    }
    this.retryLater();
  }

  /** Pumps again after the backoff; several requests failing together (their server died) make one retry. */
  private retryLater(): void {
    if (this.retryTimer !== undefined || this.stopped) return;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      try {
        this.pump();
      } catch (err) {
        this.onError(err);
      }
    }, this.backoffMs);
    this.retryTimer.unref();
  }
}
