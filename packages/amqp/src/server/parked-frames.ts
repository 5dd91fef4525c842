/**
 * Frames a channel holds back while one of its topology claims is pending (see core's TopologyAuthority): a
 * channel's later frames wait for its declare or bind, so a publish after a queue.bind routes through the
 * binding. Each payload is a copy: frames are views into socket chunks, and a parked view would pin the chunk.
 */
export const enum FrameKind {
  Method,
  ContentHeader,
  Body,
}

export interface ParkedFrame {
  readonly kind: FrameKind;
  readonly payload: Buffer;
}
