import type { Message } from './message';

export type AlarmListener = (blocked: boolean) => void;

/**
 * Accounts the bodies the broker holds and raises the memory alarm above the high watermark, as RabbitMQ's
 * vm_memory_high_watermark does: protocols then stop reading from publishers (AMQP connection.blocked)
 * until consumers bring usage back under it.
 */
export class MemoryMonitor {
  used = 0;
  blocked = false;
  private readonly listeners = new Set<AlarmListener>();

  constructor(private readonly watermark: number) {}

  add(msg: Message): void {
    this.used += msg.size;
    if (!this.blocked && this.used > this.watermark) this.set(true);
  }

  remove(msg: Message): void {
    this.used -= msg.size;
    if (this.blocked && this.used <= this.watermark) this.set(false);
  }

  onAlarm(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(blocked: boolean): void {
    this.blocked = blocked;
    for (const l of this.listeners) l(blocked);
  }
}
