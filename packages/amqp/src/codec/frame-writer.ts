/**
 * AMQP 0-9-1 frame writer: methods and messages out as chunk lists for `socket.cork(); write...; uncork()`.
 *
 *   frame   = type channel size payload %xCE          ; spec 4.2.3
 *   message = method-frame header-frame *body-frame   ; spec 4.2.6, body cut at frame-max - 8 octets
 *
 * Layout of a message on the wire, as chunks:
 *
 *   [method frame + header frame + first body frame header] [body view] [CE + next body frame header] ... [CE]
 *
 * The body is never copied or concatenated: each body frame's payload is a `subarray` view of it. Gluing each
 * frame-end to the next frame's header halves the chunk count. Bodies up to INLINE_BODY_MAX are the exception:
 * copying a few hundred octets into the head buffer is cheaper than two more writes through the stream.
 */
import { WarrenError } from '@warren/core';
import { BASIC_CLASS_ID, BASIC_DELIVER, encodeMethod, methodSize, type Method } from './generated/methods';
import {
  checkFrameMax,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEADER_SIZE,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
  FRAME_OVERHEAD,
} from './frame-reader';
import { shortstrSize, writeLonglong, writeShortstr } from './primitives';
import { contentHeaderSize, writeContentHeader, type PropertiesInput } from './properties';

/** Bodies this small are copied into the head buffer (one chunk per message instead of three). */
export const INLINE_BODY_MAX = 512;

/** A heartbeat frame (spec 4.2.7): type 8, channel 0, no payload. Shared; never written to. */
export const HEARTBEAT_FRAME: Buffer = Buffer.from([8, 0, 0, 0, 0, 0, 0, FRAME_END]);

const FRAME_END_ONLY: Buffer = Buffer.from([FRAME_END]);

function writeFrameHeader(buf: Buffer, p: number, type: number, channel: number, size: number): number {
  buf[p] = type;
  buf.writeUInt16BE(channel, p + 1);
  buf.writeUInt32BE(size, p + 3);
  return p + FRAME_HEADER_SIZE;
}

export class FrameWriter {
  /** Largest body frame payload: frame-max less header and frame-end. */
  private maxBodyPayload: number;

  constructor(frameMax: number = FRAME_MIN_SIZE) {
    this.maxBodyPayload = FrameWriter.bodyPayloadFor(frameMax);
  }

  private static bodyPayloadFor(frameMax: number): number {
    // frame-max 0 means "no limit" (spec 4.2.3); a frame's size field still caps a payload at 2^32 - 1.
    return checkFrameMax(frameMax) === 0 ? 0xffffffff : frameMax - FRAME_OVERHEAD;
  }

  /** Applies the negotiated frame-max to the frames written from now on. */
  setFrameMax(frameMax: number): void {
    this.maxBodyPayload = FrameWriter.bodyPayloadFor(frameMax);
  }

  /** A method frame as one exactly-sized buffer. */
  method(channel: number, m: Method): Buffer {
    const size = methodSize(m);
    const buf = Buffer.allocUnsafe(size + FRAME_OVERHEAD);
    const p = encodeMethod(buf, writeFrameHeader(buf, 0, FRAME_METHOD, channel, size), m);
    buf[p] = FRAME_END;
    return buf;
  }

  /**
   * A content-carrying method (basic.publish, deliver, return, get-ok) with its header and body frames,
   * appended to `out`. Returns the octets appended, for outbound accounting.
   */
  message(channel: number, m: Method, props: PropertiesInput, body: Buffer, out: Buffer[]): number {
    const mSize = methodSize(m);
    const hSize = contentHeaderSize(props);
    const head = this.allocHead(mSize + FRAME_OVERHEAD, hSize, body);
    let p = writeFrameHeader(head, 0, FRAME_METHOD, channel, mSize);
    p = encodeMethod(head, p, m);
    head[p] = FRAME_END;
    return this.finish(head, p + 1, channel, hSize, props, body, out);
  }

  /**
   * basic.deliver without building a method object: the one message every consumer receives. Head buffer =
   * method frame + content header frame (+ the body, when small); body frames follow as views.
   */
  deliver(
    channel: number,
    consumerTag: string,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    props: PropertiesInput,
    body: Buffer,
    out: Buffer[],
  ): number {
    // class + method ids, consumer-tag, delivery-tag, redelivered bit, exchange, routing-key.
    const mSize = 4 + shortstrSize(consumerTag) + 8 + 1 + shortstrSize(exchange) + shortstrSize(routingKey);
    const hSize = contentHeaderSize(props);
    const head = this.allocHead(mSize + FRAME_OVERHEAD, hSize, body);
    let p = writeFrameHeader(head, 0, FRAME_METHOD, channel, mSize);
    head.writeUInt32BE(BASIC_DELIVER, p);
    p = writeShortstr(head, p + 4, consumerTag);
    p = writeLonglong(head, p, deliveryTag);
    head[p++] = redelivered ? 1 : 0;
    p = writeShortstr(head, p, exchange);
    p = writeShortstr(head, p, routingKey);
    head[p] = FRAME_END;
    return this.finish(head, p + 1, channel, hSize, props, body, out);
  }

  /**
   * Content header and body frames only, for callers that wrote the method frame themselves. Returns the
   * octets appended to `out`.
   */
  content(channel: number, props: PropertiesInput, body: Buffer, out: Buffer[]): number {
    const hSize = contentHeaderSize(props);
    const head = this.allocHead(0, hSize, body);
    return this.finish(head, 0, channel, hSize, props, body, out);
  }

  /** One buffer for `before` octets (the method frame), the header frame of `hSize` octets and what follows. */
  private allocHead(before: number, hSize: number, body: Buffer): Buffer {
    // Spec 4.2.6: the content header is one frame, so its properties must fit frame-max. A message from another
    // protocol can carry more headers than that (STOMP allows megabytes): refused before anything is written.
    if (hSize > this.maxBodyPayload) {
      throw new WarrenError(
        'FRAME_ERROR',
        `content header of ${hSize} octets does not fit the negotiated frame-max (${this.maxBodyPayload + FRAME_OVERHEAD})`,
      );
    }
    let n = before + hSize + FRAME_OVERHEAD;
    if (body.length > 0) {
      n += FRAME_HEADER_SIZE;
      if (body.length <= INLINE_BODY_MAX && body.length <= this.maxBodyPayload) n += body.length + 1;
    }
    return Buffer.allocUnsafe(n);
  }

  /** Writes the content header frame at `p` of `head`, then the body frames; pushes everything to `out`. */
  private finish(
    head: Buffer,
    p: number,
    channel: number,
    hSize: number,
    props: PropertiesInput,
    body: Buffer,
    out: Buffer[],
  ): number {
    p = writeFrameHeader(head, p, FRAME_HEADER, channel, hSize);
    p = writeContentHeader(head, p, BASIC_CLASS_ID, body.length, props);
    head[p++] = FRAME_END;
    // Spec 4.2.6.2: a zero-length body is sent as no body frame at all.
    if (body.length === 0) {
      out.push(head);
      return head.length;
    }
    const max = this.maxBodyPayload;
    let take = Math.min(body.length, max);
    p = writeFrameHeader(head, p, FRAME_BODY, channel, take);
    if (p < head.length) {
      // Small body, inlined: head already has room for it and its frame-end.
      body.copy(head, p);
      head[head.length - 1] = FRAME_END;
      out.push(head);
      return head.length;
    }
    out.push(head, body.subarray(0, take));
    let written = head.length + take;
    for (let off = take; off < body.length; off += take) {
      take = Math.min(body.length - off, max);
      const sep = Buffer.allocUnsafe(1 + FRAME_HEADER_SIZE);
      sep[0] = FRAME_END;
      writeFrameHeader(sep, 1, FRAME_BODY, channel, take);
      out.push(sep, body.subarray(off, off + take));
      written += sep.length + take;
    }
    out.push(FRAME_END_ONLY);
    return written + 1;
  }
}
