import { FrameReader, type FrameHandler } from '../src';

/** Bytes written as hex in a test, whitespace allowed. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

export type RecordedFrame =
  | { kind: 'protocol'; accepted: boolean; header: string }
  | { kind: 'method' | 'header' | 'body'; channel: number; payload: string }
  | { kind: 'heartbeat' };

/** A FrameHandler that records every frame (payloads as hex, since views are valid only during the call). */
export class Recorder implements FrameHandler {
  readonly frames: RecordedFrame[] = [];
  onProtocolHeader(accepted: boolean, header: Buffer): void {
    this.frames.push({ kind: 'protocol', accepted, header: header.toString('hex') });
  }
  onMethod(channel: number, payload: Buffer): void {
    this.frames.push({ kind: 'method', channel, payload: payload.toString('hex') });
  }
  onContentHeader(channel: number, payload: Buffer): void {
    this.frames.push({ kind: 'header', channel, payload: payload.toString('hex') });
  }
  onBody(channel: number, payload: Buffer): void {
    this.frames.push({ kind: 'body', channel, payload: payload.toString('hex') });
  }
  onHeartbeat(): void {
    this.frames.push({ kind: 'heartbeat' });
  }
}

/** Feeds `chunks` to a fresh reader and returns what it delivered. */
export function readAll(chunks: Buffer[], frameMax = 131072, expectProtocolHeader = false): RecordedFrame[] {
  const rec = new Recorder();
  const reader = new FrameReader(rec, { frameMax, expectProtocolHeader });
  for (const c of chunks) reader.push(c);
  return rec.frames;
}

/** The payload of a single frame (strips the 7-octet header and the frame-end). */
export function payloadOf(frame: Buffer): Buffer {
  return frame.subarray(7, frame.length - 1);
}
