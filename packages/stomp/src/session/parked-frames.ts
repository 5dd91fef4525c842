/*
 * The frames a session holds back behind a topology claim (clustered brokers only): set while a frame's claim
 * is pending, the frames that arrived since, handled in order once it settles. Past maxParkedBytes reading
 * pauses (ReadPauses 'parked') until they are handled.
 */
import type { ReadPauses } from '@warren/core';
import type { StompFrame } from '../codec/frame';

export class ParkedFrames {
  private frames: StompFrame[] | undefined = undefined;
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly pauses: ReadPauses,
  ) {}

  /** A claim is pending: frames wait. Never true on a single node. */
  get active(): boolean {
    return this.frames !== undefined;
  }

  begin(): void {
    this.frames = [];
  }

  add(frame: StompFrame): void {
    (this.frames ??= []).push(frame);
    this.bytes += frameSize(frame);
    if (this.bytes > this.maxBytes) this.pauses.pause('parked');
  }

  /** Ends parking: the frames that waited, in order, for the session to handle (a handled one may park again). */
  take(): StompFrame[] {
    const frames = this.frames ?? [];
    this.frames = undefined;
    this.bytes = 0;
    return frames;
  }

  /** After the taken frames were handled: reading resumes unless those parked again past the cap. */
  settle(): void {
    if (this.bytes <= this.maxBytes) this.pauses.resume('parked');
  }

  /** The session ended: the frames go with it. */
  drop(): void {
    this.frames = undefined;
    this.bytes = 0;
  }
}

/** What a parked frame holds: its body and about what its headers take. */
function frameSize(frame: StompFrame): number {
  let n = frame.body.length + frame.command.length;
  for (const [name, value] of frame.headers) n += name.length + value.length + 2;
  return n;
}
