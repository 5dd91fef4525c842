/*
 * One message handed out by a queue stream's consumer, and how to settle it. Settling is a publish to the
 * message's reply subject, JetStream's ack protocol (ADR-4):
 *
 *   +ACK                 done: a work-queue stream removes the message
 *   -NAK                 redeliver now;   -NAK {"delay": <ns>}  redeliver after the delay (server 2.7.1+)
 *   +TERM                never redeliver; a work-queue stream then removes it, as for +ACK (2.9.10 does)
 *   +WPI                 still working: restarts the ack_wait clock
 *
 * The reply subject carries the delivery's metadata:
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>   (9 tokens)
 *   $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>...[.<random>]     (11+ tokens)
 */
import type { NatsConnection } from '@nats-io/transport-node';

const ACK = new TextEncoder().encode('+ACK');
const NAK = new TextEncoder().encode('-NAK');
const TERM = new TextEncoder().encode('+TERM');
const WPI = new TextEncoder().encode('+WPI');

export interface AckMetadata {
  deliveryCount: number;
  seq: number;
  /** Messages left for the consumer when this one was sent. */
  pending: number;
  /** When the stream stored the message, ms since the epoch (0 if the subject did not say). */
  storedAt: number;
}

/** The metadata in a JetStream ack subject, undefined if the subject is not one. */
export function parseAckSubject(reply: string): AckMetadata | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  // 9 tokens: the original form; 11 or more: with domain and account hash (server 2.9+ may send either).
  const base = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (base < 0) return undefined;
  const deliveryCount = Number(t[base]);
  const seq = Number(t[base + 1]);
  const pending = Number(t[base + 4]);
  if (!Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(seq)) return undefined;
  // Nanoseconds: past 2^53, so read as a bigint and cut to ms.
  let storedAt = 0;
  try {
    storedAt = Number(BigInt(t[base + 3] ?? '0') / 1_000_000n);
  } catch {
    // Not a number: unknown.
  }
  return { deliveryCount, seq, pending: Number.isSafeInteger(pending) ? pending : 0, storedAt };
}

export class Delivery {
  /** The stream's sequence number of the message: stable across redeliveries. */
  readonly seq: number;
  /** How many times it has been delivered, this time included (1 the first time). */
  readonly deliveryCount: number;
  /** When the stream stored it, ms since the epoch (0: unknown). */
  readonly storedAt: number;
  /**
   * Messages not yet handed out when this one was: in a work-queue stream, the ready messages newer than it
   * (a message handed back waits apart and is not counted).
   */
  readonly pending: number;
  private settled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly reply: string,
    meta: AckMetadata,
    /**
     * The stored bytes (for Warren, an envelope). A view of the client's read buffer for this message: copy
     * it (Buffer.from(body)) to keep it past the delivery.
     */
    readonly body: Buffer,
    private readonly onSettle: (() => void) | undefined,
  ) {
    this.seq = meta.seq;
    this.deliveryCount = meta.deliveryCount;
    this.storedAt = meta.storedAt;
    this.pending = meta.pending;
  }

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  ack(): void {
    this.settle(ACK);
  }

  /**
   * Resolves once the server has processed this delivery's ack and, the acks of one connection being processed
   * in order, every ack sent before it: the ack again, with a reply asked for (JetStream answers an ack that
   * has a reply subject). Rejects if no answer comes within timeoutMs.
   */
  async acked(timeoutMs: number): Promise<void> {
    await this.nc.request(this.reply, ACK, { timeout: timeoutMs });
  }

  /** Redeliver, after delayMs if given (to this or any other node's consumer loop). */
  nak(delayMs?: number): void {
    if (delayMs === undefined || delayMs <= 0) this.settle(NAK);
    else
      this.settle(new TextEncoder().encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1e6) })}`));
  }

  /** Never redeliver (a poison message, or one dead-lettered elsewhere). */
  term(): void {
    this.settle(TERM);
  }

  /** Restart the ack_wait clock of a message still being worked on (not a settlement). */
  working(): void {
    if (!this.settled) this.publish(WPI);
  }

  private settle(verb: Uint8Array): void {
    if (this.settled) return;
    this.settled = true;
    this.publish(verb);
    this.onSettle?.();
  }

  /**
   * A closed connection throws here; the server then redelivers after ack_wait, which is what an ack that
   * never arrived means anyway, so the error is not the caller's to handle.
   */
  private publish(verb: Uint8Array): void {
    try {
      this.nc.publish(this.reply, verb);
    } catch {
      // See above: the message comes back after ack_wait.
    }
  }
}
