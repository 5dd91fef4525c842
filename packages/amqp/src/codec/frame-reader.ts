/**
 * Incremental AMQP 0-9-1 frame reader: socket chunks in, whole frames out (spec sections 4.2.2 and 4.2.3).
 *
 *   protocol-header = "AMQP" %d0 %d0 %d9 %d1     ; sent once by the client before any frame
 *   frame           = type channel size payload frame-end
 *   type            = octet                      ; 1 method, 2 header, 3 body, 8 heartbeat
 *   channel         = short
 *   size            = long                       ; payload octets
 *   frame-end       = %xCE
 *
 * A frame lying wholly inside a chunk is handed out as a `subarray` view of that chunk; only a frame split
 * across chunks is copied, once, into a per-reader scratch buffer. Either way the payload is valid only during
 * the callback: whoever keeps bytes (a message body) copies them into a buffer of their final size.
 *
 * Frames are delivered through a FrameHandler (no events, no Promises, no per-frame closures). Bad framing
 * throws a WarrenError from `push`; framing cannot be resynchronised after that, so the reader ignores
 * everything that follows and the caller closes the connection (connection.close 501, then the socket).
 */
import { WarrenError } from '@warren/core';
import { hexSnippet } from './primitives';

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** type (1) + channel (2) + size (4). */
export const FRAME_HEADER_SIZE = 7;
/** Header plus frame-end: what frame-max allows on top of the payload. */
export const FRAME_OVERHEAD = 8;
/** Spec 4.2.3 (FRAME-MIN-SIZE): until tune-ok both peers must accept frames of up to 4096 octets, no more. */
export const FRAME_MIN_SIZE = 4096;

export const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const PROTOCOL_HEADER_SIZE = 8;

export interface FrameHandler {
  /**
   * The client's protocol header. `accepted` is false for anything that is not AMQP 0-9-1 (RabbitMQ also
   * takes the 0-9 header "AMQP\x01\x01\x00\x09" as 0-9-1); the caller then writes PROTOCOL_HEADER and closes
   * (spec 4.2.2), and the reader ignores any further input.
   */
  onProtocolHeader(accepted: boolean, header: Buffer): void;
  onMethod(channel: number, payload: Buffer): void;
  onContentHeader(channel: number, payload: Buffer): void;
  onBody(channel: number, payload: Buffer): void;
  onHeartbeat(): void;
}

export interface FrameReaderOptions {
  /** Whether the stream starts with the protocol header (a server's reader); default true. */
  expectProtocolHeader?: boolean;
  /** Largest frame accepted, header and frame-end included; default FRAME_MIN_SIZE until tuned. */
  frameMax?: number;
}

/** Reader states: before the protocol header, reading frames, and closed (after an error or `close()`). */
const PROTOCOL: number = 0;
const FRAMES: number = 1;
const CLOSED: number = 2;

/**
 * Validates a negotiated frame-max: 0 (no limit) or at least FRAME_MIN_SIZE. RabbitMQ refuses a smaller
 * tune-ok frame-max with NOT_ALLOWED (530), and a tiny one would leave no room for a body octet per frame.
 */
export function checkFrameMax(frameMax: number): number {
  if (frameMax !== 0 && !(frameMax >= FRAME_MIN_SIZE && frameMax <= 0xffffffff)) {
    throw new WarrenError('NOT_ALLOWED', `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`);
  }
  return frameMax;
}

function frameError(message: string): WarrenError {
  return new WarrenError('FRAME_ERROR', message);
}

export class FrameReader {
  /** PROTOCOL, FRAMES or CLOSED; a plain number because handler callbacks change it mid-loop. */
  private state: number;
  private frameMax: number;
  /** Holds the partial frame (or protocol header) when a chunk ends inside one. */
  private scratch: Buffer = Buffer.alloc(0);
  /** Octets of the partial frame held in scratch; 0 when no frame is pending. */
  private have = 0;
  /** Total octets of the pending frame, known once its 7-octet header is in; 0 before. */
  private need = 0;

  constructor(
    private readonly handler: FrameHandler,
    options: FrameReaderOptions = {},
  ) {
    this.state = options.expectProtocolHeader === false ? FRAMES : PROTOCOL;
    this.frameMax = checkFrameMax(options.frameMax ?? FRAME_MIN_SIZE);
  }

  /** Applies the negotiated frame-max (from connection.tune-ok); 0 means no limit other than the 32-bit size. */
  setFrameMax(frameMax: number): void {
    this.frameMax = checkFrameMax(frameMax);
  }

  /** Stops delivering frames; later chunks are ignored. */
  close(): void {
    this.state = CLOSED;
    this.scratch = Buffer.alloc(0);
    this.have = 0;
    this.need = 0;
  }

  /** Feeds one socket chunk; delivers every complete frame in it. Throws WarrenError FRAME_ERROR. */
  push(chunk: Buffer): void {
    try {
      this.consume(chunk);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private consume(chunk: Buffer): void {
    if (this.state === CLOSED) return;
    let off = 0;
    if (this.state === PROTOCOL) {
      off = this.readProtocolHeader(chunk);
      if (this.state !== FRAMES) return;
    }
    if (this.have > 0) {
      off = this.fillPending(chunk, off);
      if (this.have > 0 || this.state !== FRAMES) return;
    }
    const len = chunk.length;
    while (this.state === FRAMES && len - off >= FRAME_HEADER_SIZE) {
      const size = this.checkHeader(chunk, off);
      const total = size + FRAME_OVERHEAD;
      if (len - off < total) break;
      this.dispatch(chunk, off, size);
      off += total;
    }
    if (off < len && this.state === FRAMES) this.startPending(chunk, off);
  }

  /** Validates the 7-octet frame header at `off` and returns the payload size. */
  private checkHeader(buf: Buffer, off: number): number {
    const type = buf[off] as number;
    const size = buf.readUInt32BE(off + 3);
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      // RabbitMQ answers an unknown frame type with 501 (rabbit_reader: frame_error unknown_frame).
      throw frameError(`unknown frame type ${type} in ${hexSnippet(buf, off, off + FRAME_HEADER_SIZE)}`);
    }
    // Spec 4.2.3: a peer MUST NOT send frames larger than the negotiated frame-max.
    if (this.frameMax !== 0 && size > this.frameMax - FRAME_OVERHEAD) {
      throw frameError(`frame size ${size + FRAME_OVERHEAD} exceeds frame-max ${this.frameMax}`);
    }
    return size;
  }

  /** Hands a complete frame at `off` (header included) to the handler, after the frame-end check. */
  private dispatch(buf: Buffer, off: number, size: number): void {
    const type = buf[off] as number;
    const channel = buf.readUInt16BE(off + 1);
    const start = off + FRAME_HEADER_SIZE;
    // Spec 4.2.3: frame-end must be %xCE, else the frame is malformed and the connection is closed with 501.
    if (buf[start + size] !== FRAME_END) {
      throw frameError(`frame end octet ${hexSnippet(buf, start + size, start + size + 1)} is not <ce>`);
    }
    const payload = buf.subarray(start, start + size);
    switch (type) {
      case FRAME_METHOD:
        this.handler.onMethod(channel, payload);
        break;
      case FRAME_HEADER:
        this.handler.onContentHeader(channel, payload);
        break;
      case FRAME_BODY:
        this.handler.onBody(channel, payload);
        break;
      default:
        // Spec 4.2.7: heartbeat frames have channel 0 and no payload; anything else is a frame error.
        if (channel !== 0 || size !== 0)
          throw frameError(`heartbeat frame on channel ${channel} with ${size} octets`);
        this.handler.onHeartbeat();
    }
  }

  /** Copies the tail of a chunk that holds only part of a frame. */
  private startPending(chunk: Buffer, off: number): void {
    const n = chunk.length - off;
    this.need = n >= FRAME_HEADER_SIZE ? this.checkHeader(chunk, off) + FRAME_OVERHEAD : 0;
    this.reserve(Math.max(this.need, FRAME_HEADER_SIZE));
    chunk.copy(this.scratch, 0, off);
    this.have = n;
  }

  /** Continues the frame pending in scratch with the start of `chunk`; returns the offset consumed up to. */
  private fillPending(chunk: Buffer, off: number): number {
    if (this.need === 0) {
      const take = Math.min(FRAME_HEADER_SIZE - this.have, chunk.length - off);
      chunk.copy(this.scratch, this.have, off, off + take);
      this.have += take;
      off += take;
      if (this.have < FRAME_HEADER_SIZE) return off;
      this.need = this.checkHeader(this.scratch, 0) + FRAME_OVERHEAD;
      this.reserve(this.need);
    }
    const take = Math.min(this.need - this.have, chunk.length - off);
    chunk.copy(this.scratch, this.have, off, off + take);
    this.have += take;
    off += take;
    if (this.have === this.need) {
      this.have = 0;
      this.need = 0;
      this.dispatch(this.scratch, 0, this.scratch.readUInt32BE(3));
    }
    return off;
  }

  /** Grows scratch to hold `n` octets, keeping what it already holds; sized by frames seen, capped by frame-max. */
  private reserve(n: number): void {
    if (this.scratch.length >= n) return;
    const grown = Buffer.allocUnsafe(Math.max(n, Math.min(this.scratch.length * 2, this.frameMax || n)));
    this.scratch.copy(grown, 0, 0, this.have);
    this.scratch = grown;
  }

  /** Collects the 8-octet protocol header (it may arrive in pieces); returns the offset after it. */
  private readProtocolHeader(chunk: Buffer): number {
    this.reserve(PROTOCOL_HEADER_SIZE);
    const take = Math.min(PROTOCOL_HEADER_SIZE - this.have, chunk.length);
    chunk.copy(this.scratch, this.have, 0, take);
    this.have += take;
    // Refuse as soon as the "AMQP" prefix mismatches, rather than waiting for octets a non-AMQP peer may never send.
    const prefix = Math.min(this.have, 4);
    const header = this.scratch.subarray(0, this.have);
    if (header.compare(PROTOCOL_HEADER, 0, prefix, 0, prefix) !== 0) return this.refuse(header, take);
    if (this.have < PROTOCOL_HEADER_SIZE) return take;
    this.have = 0;
    const v = header.readUInt32BE(4);
    // RabbitMQ takes the 0-9 header (1 1 0 9) as 0-9-1 too: the two are wire-compatible.
    if (v !== 0x00000901 && v !== 0x01010009) return this.refuse(header, take);
    this.state = FRAMES;
    this.handler.onProtocolHeader(true, Buffer.from(header));
    return take;
  }

  private refuse(header: Buffer, consumed: number): number {
    const copy = Buffer.from(header);
    this.close();
    this.handler.onProtocolHeader(false, copy);
    return consumed;
  }
}
