/*
 * Why a connection stops reading its socket, whatever protocol it speaks. Each reason pauses reading; it
 * resumes when the last one is gone.
 *
 *   alarm    the connection published while a memory or disk alarm is raised (RabbitMQ's blocking)
 *   parked   frames parked behind topology claims passed maxParkedBytes (a cluster node's)
 *
 * While reading is paused the peer's heart-beats sit unread, so neither protocol may count it silent then:
 * `changed` tells the protocol when to stop and start looking.
 */
import type { Transport } from './transport';

export type ReadPauseReason = 'alarm' | 'parked';

export class ReadPauses {
  private readonly reasons = new Set<ReadPauseReason>();

  constructor(
    private readonly reader: Pick<Transport, 'pauseReading' | 'resumeReading'>,
    private readonly changed: (paused: boolean) => void = () => {},
  ) {}

  get paused(): boolean {
    return this.reasons.size > 0;
  }

  has(reason: ReadPauseReason): boolean {
    return this.reasons.has(reason);
  }

  /** Adds `reason`; false if it was there already. */
  pause(reason: ReadPauseReason): boolean {
    if (this.reasons.has(reason)) return false;
    this.reasons.add(reason);
    if (this.reasons.size === 1) {
      this.reader.pauseReading();
      this.changed(true);
    }
    return true;
  }

  /** Removes `reason`; false if it was not there. */
  resume(reason: ReadPauseReason): boolean {
    if (!this.reasons.delete(reason)) return false;
    if (this.reasons.size === 0) {
      this.changed(false);
      this.reader.resumeReading();
    }
    return true;
  }
}
