/**
 * One producer: one connection, publishing batches from a pump that runs once per event-loop turn
 * (setImmediate), so consumers on the same loop read between two batches. The pump stops when the socket
 * asks for 'drain', the confirm window is full, the broker sent connection.blocked, or the backlog is over
 * --max-backlog; each of those resumes it.
 */
import type { AmqpClient } from './amqp-client';
import { Histogram } from './histogram';
import type { PublishFrames } from './publish-frames';
import { nowNs, type Resumable, type RunContext } from './run-context';

export interface ProducerSettings {
  batch: number;
  /** Largest span of unconfirmed delivery tags; 0 = no confirms. */
  confirmWindow: number;
  /** This producer's msgs/s; 0 = unlimited. */
  rate: number;
  /** Messages to publish; Infinity in duration runs. */
  quota: number;
}

export class Producer implements Resumable {
  published = 0;
  pubInWindow = 0;
  lastPublishNs = 0;
  confirmed = 0;
  nacked = 0;
  readonly confirmLatency = new Histogram();
  /** Set once the producer will publish no more (quota reached, end of run, or stop()). */
  stopped = false;
  private scheduled = false;
  private waitingDrain = false;
  private blocked = false;
  private startNs = 0;
  /** Confirms: tags are 1-based publish counts; everything below `lowest` is settled. */
  private lowest = 1;
  private readonly settled: Uint8Array;
  private readonly sentAt: Float64Array;
  private readonly pumpBound = (): void => this.pump();

  constructor(
    private readonly client: AmqpClient,
    private readonly frames: PublishFrames,
    private readonly s: ProducerSettings,
    private readonly run: RunContext,
  ) {
    // Ring buffers indexed by tag mod window: the window bounds the span of unsettled tags, so no slot is
    // reused before it is settled.
    this.settled = new Uint8Array(Math.max(1, s.confirmWindow));
    this.sentAt = new Float64Array(Math.max(1, s.confirmWindow));
    client.onBlocked = (blocked) => {
      this.blocked = blocked;
      if (!blocked) this.resume();
    };
    if (s.confirmWindow > 0) client.onConfirm = (tag, multiple, nack) => this.onConfirm(tag, multiple, nack);
    client.socket.on('drain', () => {
      this.waitingDrain = false;
      this.resume();
    });
  }

  /** Unsettled publishes (confirms only). */
  unconfirmed(): number {
    return this.s.confirmWindow === 0 ? 0 : this.published - this.confirmed - this.nacked;
  }

  start(): void {
    this.startNs = nowNs();
    this.resume();
  }

  stop(): void {
    this.stopped = true;
  }

  resume(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.pumpBound);
  }

  private pump(): void {
    this.scheduled = false;
    if (this.stopped || this.waitingDrain || this.blocked) return;
    const s = this.s;
    const now = nowNs();
    if (now >= this.run.endNs || this.published >= s.quota) {
      this.stopped = true;
      return;
    }
    if (this.run.holdBack(this)) return;
    let n = Math.min(s.batch, s.quota - this.published);
    if (s.confirmWindow > 0) {
      // Span of tags in flight, not a count: a window of W never needs more than W ring slots.
      n = Math.min(n, s.confirmWindow - (this.published + 1 - this.lowest));
      if (n <= 0) return; // onConfirm resumes
    }
    let sendNs = now;
    let stepNs = 0;
    if (s.rate > 0) {
      stepNs = 1e9 / s.rate;
      const due = Math.floor((now - this.startNs) / stepNs) + 1 - this.published;
      if (due <= 0) {
        const waitMs = (this.startNs + this.published * stepNs - now) / 1e6;
        this.scheduled = true;
        setTimeout(this.pumpBound, Math.max(0, Math.floor(waitMs)));
        return;
      }
      n = Math.min(n, due);
      // The intended send time when the producer is behind schedule: a producer held up by the broker shows
      // as latency instead of silently sending less (no coordinated omission). See PublishFrames.batch.
      sendNs = this.startNs + this.published * stepNs;
    }
    const buf = this.frames.batch(n, this.published, sendNs, stepNs, s.rate > 0 ? now : undefined);
    if (s.confirmWindow > 0) {
      const w = s.confirmWindow;
      for (let i = 1; i <= n; i++) {
        const slot = (this.published + i) % w;
        this.sentAt[slot] = now;
        this.settled[slot] = 0;
      }
    }
    this.published += n;
    this.run.published += n;
    if (now >= this.run.winStartNs && now < this.run.winEndNs) this.pubInWindow += n;
    this.lastPublishNs = now;
    if (!this.client.write(buf)) {
      this.waitingDrain = true;
      return;
    }
    this.resume();
  }

  private onConfirm(tag: number, multiple: boolean, nack: boolean): void {
    const w = this.s.confirmWindow;
    const now = nowNs();
    const from = multiple ? this.lowest : tag;
    for (let t = Math.max(from, this.lowest); t <= tag; t++) {
      const slot = t % w;
      if (this.settled[slot] === 1) continue;
      this.settled[slot] = 1;
      if (nack) this.nacked++;
      else {
        this.confirmed++;
        this.confirmLatency.record(now - (this.sentAt[slot] as number));
      }
    }
    while (this.lowest <= this.published && this.settled[this.lowest % w] === 1) this.lowest++;
    this.resume();
  }
}
