import type { ResourceAlarms } from './alarms';
import type { Message } from './message';

/**
 * Accounts the message bodies the broker holds in memory and raises the memory alarm above the high
 * watermark, as RabbitMQ's vm_memory_high_watermark does: protocols then stop reading from publishers (AMQP
 * connection.blocked) until consumers bring usage back under it. A paged-out message holds no body, so it
 * counts nothing here.
 */
export class MemoryMonitor {
  used = 0;

  constructor(
    private readonly watermark: number,
    private readonly alarms: ResourceAlarms,
  ) {}

  get blocked(): boolean {
    return this.alarms.isRaised('memory');
  }

  add(msg: Message): void {
    this.used += msg.body.length;
    if (this.used > this.watermark && !this.blocked) this.alarms.set('memory', true);
  }

  remove(msg: Message): void {
    this.used -= msg.body.length;
    if (this.used <= this.watermark && this.blocked) this.alarms.set('memory', false);
  }
}
