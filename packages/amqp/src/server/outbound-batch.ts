/*
 * A connection's outbound frames, written once per turn of the event loop in one corked burst (one writev):
 * a fan-out to a thousand consumers, or a batch of confirms, costs one write, not one per frame.
 *
 *   push / chunks + schedule   frames in (a writer may append many chunks to `chunks`, then schedule())
 *   flush                      on the next tick, or at once before a close: the batch to the transport
 *   quiet                      for the heartbeat: nothing written or waiting since it last looked
 */
import type { Transport } from '@warren/core';

export class OutboundBatch {
  /** The chunks of the next write. A flush replaces the array: read it afresh, never keep it. */
  chunks: Buffer[] = [];
  private wrote = false;
  private scheduled = false;
  private closed = false;
  private readonly flushNow: () => void;

  /**
   * `written`: after each write, its octets and whether the transport took them without backing up.
   * `guard`: runs the deferred flush as the connection's own code (a throw ends this connection only).
   */
  constructor(
    private readonly transport: Transport,
    private readonly written: (octets: number, ok: boolean) => void,
    guard: (fn: () => void) => void,
  ) {
    this.flushNow = () => guard(() => this.flush());
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flushNow);
  }

  /** Writes the batch in one corked burst. */
  flush(): void {
    this.scheduled = false;
    const out = this.chunks;
    if (out.length === 0 || this.closed) {
      out.length = 0;
      return;
    }
    this.chunks = [];
    this.wrote = true;
    const t = this.transport;
    let ok = true;
    let octets = 0;
    t.cork();
    for (let i = 0; i < out.length; i++) {
      const chunk = out[i] as Buffer;
      octets += chunk.length;
      ok = t.write(chunk) && ok;
    }
    t.uncork();
    this.written(octets, ok);
  }

  /** Nothing was written or is waiting since the last call (and the transport is there): time for a heartbeat. */
  quiet(): boolean {
    const quiet = !this.wrote && this.chunks.length === 0 && !this.closed;
    this.wrote = false;
    return quiet;
  }

  /** The transport is gone: what is batched is dropped, nothing more is written. */
  close(): void {
    this.closed = true;
  }
}
