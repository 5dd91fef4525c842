/**
 * The publish hot path: a batch of basic.publish messages as one buffer, for one socket write.
 *
 * The codec encodes each distinct frame once, at setup: one basic.publish method frame per routing key, and
 * one content template (content header frame + body frames, via FrameWriter.content, so multi-frame bodies
 * are split exactly as the codec would). Per message the batch gets a copy of the method frame and of the
 * template, and the body's first 16 octets are stamped:
 *
 *   body = send-ns (uint64 BE, process.hrtime clock) producer-id (uint32 BE) sequence (uint32 BE) filler
 *
 * A buffer per batch rather than chunk lists under cork: every message needs its own stamped body anyway, and
 * one write of ~64 KiB costs one syscall where a chunk list costs a writev with a vector per message.
 */
import { BASIC_PUBLISH, FrameWriter, FRAME_BODY } from '@warren/amqp';

const TWO_32 = 0x100000000;
/** Octets per write that the automatic batch size aims at. */
const TARGET_BATCH_OCTETS = 64 * 1024;
const MAX_AUTO_BATCH = 256;
const TIMER_SLACK_NS = 2e6;

export interface PublishSpec {
  exchange: string;
  /** Message n of a producer goes with routingKeys[n mod length]. */
  routingKeys: readonly string[];
  size: number;
  persistent: boolean;
  producerId: number;
}

export class PublishFrames {
  private readonly methods: Buffer[];
  private readonly content: Buffer;
  /** Where the body starts inside `content`. */
  private readonly bodyOffset: number;
  /** Octets of one message (method + content) for the shortest routing key, for batch sizing. */
  readonly messageOctets: number;

  constructor(
    writer: FrameWriter,
    private readonly spec: PublishSpec,
    channel = 1,
  ) {
    this.methods = spec.routingKeys.map((routingKey) =>
      writer.method(channel, {
        id: BASIC_PUBLISH,
        ticket: 0,
        exchange: spec.exchange,
        routingKey,
        mandatory: false,
        immediate: false,
      }),
    );
    const body = Buffer.alloc(spec.size, 0x2e);
    const chunks: Buffer[] = [];
    writer.content(channel, { deliveryMode: spec.persistent ? 2 : 1 }, body, chunks);
    this.content = Buffer.concat(chunks);
    this.bodyOffset = firstBodyOffset(this.content);
    // A loop, not Math.min(...lengths): spreading a million routing keys' frames overflows the call stack.
    let shortest = Infinity;
    for (const m of this.methods) shortest = Math.min(shortest, m.length);
    this.messageOctets = shortest + this.content.length;
  }

  /** Messages per write when the user did not say: about 64 KiB, at least 1. */
  autoBatch(): number {
    return Math.max(1, Math.min(MAX_AUTO_BATCH, Math.floor(TARGET_BATCH_OCTETS / this.messageOctets)));
  }

  /**
   * `n` messages with sequence numbers seq, seq+1, ...; message i is stamped with send time
   * `sendNs + i * stepNs` (stepNs > 0 only on a fixed-rate schedule, where it carries the intended send time),
   * or `nowNs`, when given, if that is less than TIMER_SLACK_NS earlier.
   */
  batch(n: number, seq: number, sendNs: number, stepNs: number, nowNs?: number): Buffer {
    const methods = this.methods;
    const keys = methods.length;
    const content = this.content;
    let total = n * content.length;
    if (keys === 1) total += n * (methods[0] as Buffer).length;
    else for (let i = 0; i < n; i++) total += (methods[(seq + i) % keys] as Buffer).length;
    const out = Buffer.allocUnsafe(total);
    const id = this.spec.producerId >>> 0;
    let p = 0;
    for (let i = 0; i < n; i++) {
      const s = seq + i;
      p += (methods[keys === 1 ? 0 : s % keys] as Buffer).copy(out, p);
      const b = p + this.bodyOffset;
      p += content.copy(out, p);
      let t = Math.floor(sendNs + i * stepNs);
      // On a fixed-rate schedule, a message due less than TIMER_SLACK_NS ago is late only by the event loop's
      // timer granularity (about 1 ms), which is not the broker's doing: stamp the real send time. Later than
      // that, the intended time stays, so back-pressure from the broker shows up as latency.
      if (nowNs !== undefined && nowNs - t <= TIMER_SLACK_NS) t = nowNs;
      const hi = Math.floor(t / TWO_32);
      out.writeUInt32BE(hi, b);
      out.writeUInt32BE(t - hi * TWO_32, b + 4);
      out.writeUInt32BE(id, b + 8);
      out.writeUInt32BE(s >>> 0, b + 12);
    }
    return out;
  }
}

/** Offset of the first body octet: skip the content header frame, then the body frame's 7-octet header. */
function firstBodyOffset(content: Buffer): number {
  const headerFrame = 7 + content.readUInt32BE(3) + 1;
  if (content[headerFrame] !== FRAME_BODY) throw new Error('content template without a body frame');
  return headerFrame + 7;
}
