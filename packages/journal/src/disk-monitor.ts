import { statfs } from 'node:fs/promises';
import type { Logger } from '@warren/core';

export type DiskAlarmListener = (low: boolean) => void;

/** How often free space is looked at while writes flow (statfs is cheap, but not free per batch). */
const CHECK_EVERY_MS = 1000;

/**
 * RabbitMQ's disk_free_limit: below the limit the alarm is raised so protocols block publishers (AMQP
 * connection.blocked) instead of the store failing writes; it is lowered once space returns. Checked after
 * group commits, at most once a second, and by a slow timer while nothing is written (space can come back
 * without any write).
 */
export class DiskMonitor {
  low = false;
  private readonly listeners = new Set<DiskAlarmListener>();
  private lastCheck = 0;
  private checking: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly limit: number,
    private readonly logger: Logger,
    private readonly freeSpace: () => Promise<number> = async () => {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
  ) {
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS * 5);
    this.timer.unref();
  }

  onAlarm(listener: DiskAlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** After a group commit: checks unless one ran within the last second. */
  maybeCheck(): void {
    if (Date.now() - this.lastCheck >= CHECK_EVERY_MS) void this.check();
  }

  /** Reads free space now; a check already running is shared, not doubled. */
  check(): Promise<void> {
    if (this.limit <= 0) return Promise.resolve();
    this.checking ??= this.run().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async run(): Promise<void> {
    this.lastCheck = Date.now();
    try {
      const free = await this.freeSpace();
      const low = free < this.limit;
      if (low !== this.low) {
        this.low = low;
        this.logger.warn(
          { dir: this.dir, free, limit: this.limit },
          low ? 'disk alarm set' : 'disk alarm cleared',
        );
        for (const l of this.listeners) l(low);
      }
    } catch (err) {
      this.logger.error({ err, dir: this.dir }, 'journal: could not read free disk space');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
