/**
 * One consumer: one connection, one basic.consume. Counts deliveries, records end-to-end latency for messages
 * sent inside the measurement window, and acks (manual mode) every K deliveries. Ack frames are written by
 * hand into a scratch buffer and flushed once per socket chunk: the broker still receives one basic.ack per K
 * deliveries, but the client pays one write per chunk, not per ack.
 */
import { BASIC_CONSUME, BASIC_QOS, FRAME_END, FRAME_METHOD, BASIC_ACK } from '@warren/amqp';
import type { AmqpClient } from './amqp-client';
import { Histogram } from './histogram';
import type { RunContext } from './run-context';

export interface ConsumerSettings {
  queue: string;
  manualAck: boolean;
  prefetch: number;
  ackEvery: number;
  tag: string;
}

/** frame header (7) + class/method (4) + delivery-tag (8) + multiple bit (1) + frame-end (1). */
const ACK_FRAME = 21;
const TWO_32 = 0x100000000;

export class Consumer {
  consumed = 0;
  consInWindow = 0;
  firstDeliveryNs = 0;
  lastDeliveryNs = 0;
  stale = 0;
  acksSent = 0;
  readonly latency = new Histogram();
  private sinceAck = 0;
  private acks = Buffer.allocUnsafe(ACK_FRAME * 64);
  private ackBytes = 0;

  constructor(
    private readonly client: AmqpClient,
    private readonly s: ConsumerSettings,
    private readonly run: RunContext,
  ) {}

  /** basic.qos (when a prefetch is set) and basic.consume; deliveries start flowing after this. */
  async subscribe(): Promise<void> {
    const c = this.client;
    if (this.s.prefetch > 0) {
      await c.rpc({ id: BASIC_QOS, prefetchSize: 0, prefetchCount: this.s.prefetch, global: false });
    }
    c.onDelivery = (tag, sendNs, recvNs) => this.onDelivery(tag, sendNs, recvNs);
    c.onChunkEnd = () => this.onChunkEnd();
    await c.rpc({
      id: BASIC_CONSUME,
      ticket: 0,
      queue: this.s.queue,
      consumerTag: this.s.tag,
      noLocal: false,
      noAck: !this.s.manualAck,
      exclusive: false,
      noWait: false,
      arguments: {},
    });
  }

  private onDelivery(tag: number, sendNs: number, recvNs: number): void {
    this.consumed++;
    const run = this.run;
    run.consumed++;
    if (this.firstDeliveryNs === 0) this.firstDeliveryNs = recvNs;
    this.lastDeliveryNs = recvNs;
    if (recvNs >= run.winStartNs && recvNs < run.winEndNs) this.consInWindow++;
    // A stamp from before this run (a reused queue) or from the future (not our body) says nothing.
    if (sendNs < run.startNs || sendNs > recvNs) this.stale++;
    else if (sendNs >= run.winStartNs && sendNs < run.winEndNs) this.latency.record(recvNs - sendNs);
    if (this.s.manualAck && ++this.sinceAck >= this.s.ackEvery) {
      this.sinceAck = 0;
      this.addAck(tag, this.s.ackEvery > 1);
    }
  }

  private addAck(tag: number, multiple: boolean): void {
    if (this.ackBytes + ACK_FRAME > this.acks.length) {
      const grown = Buffer.allocUnsafe(this.acks.length * 2);
      this.acks.copy(grown, 0, 0, this.ackBytes);
      this.acks = grown;
    }
    const b = this.acks;
    let p = this.ackBytes;
    b[p] = FRAME_METHOD;
    b.writeUInt16BE(1, p + 1);
    b.writeUInt32BE(13, p + 3);
    b.writeUInt32BE(BASIC_ACK, p + 7);
    const hi = Math.floor(tag / TWO_32);
    b.writeUInt32BE(hi, p + 11);
    b.writeUInt32BE(tag - hi * TWO_32, p + 15);
    b[p + 19] = multiple ? 1 : 0;
    b[p + 20] = FRAME_END;
    p += ACK_FRAME;
    this.ackBytes = p;
    this.acksSent++;
  }

  private onChunkEnd(): void {
    if (this.ackBytes > 0) {
      // A copy: the socket keeps the buffer until written, and the scratch is refilled by the next chunk.
      this.client.write(Buffer.from(this.acks.subarray(0, this.ackBytes)));
      this.ackBytes = 0;
    }
    this.run.afterConsume();
  }
}
