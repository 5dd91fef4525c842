import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import type { ResourceAlarms } from './alarms';
import type { Logger } from './logger';
import type { Message } from './message';

/** What the process uses now, and what it may use. */
export interface MemorySample {
  /** Resident set size of the process: everything, Buffers and native memory included. */
  rss: number;
  /** The JavaScript heap in use (V8's heapUsed). */
  heapUsed: number;
  /** V8's heap_size_limit: past it the process dies with "heap out of memory". */
  heapLimit: number;
  /** The machine's memory, or the cgroup's limit when that is lower (a container). */
  totalMemory: number;
}

export type MemoryProbe = () => MemorySample;

let heapLimit = 0;
let machineMemory = 0;

/** Reads the real process (the default probe). The two limits cannot change while it runs, so they are read once. */
export const processMemory: MemoryProbe = () => {
  if (heapLimit === 0) {
    heapLimit = getHeapStatistics().heap_size_limit;
    const constrained = process.constrainedMemory?.() ?? 0;
    machineMemory = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed, heapLimit, totalMemory: machineMemory };
};

export interface MemoryWatermarks {
  /** Message body bytes held in memory (accounted exactly, checked on every add). */
  bodies: number;
  /** Process RSS: a fraction of totalMemory when at most 1, else bytes (RabbitMQ's vm_memory_high_watermark). */
  vm: number;
  /** JavaScript heap: a fraction of V8's heap limit. */
  heap: number;
}

/**
 * Raises the memory alarm, as RabbitMQ's vm_memory_high_watermark does: protocols then stop reading from
 * publishers (AMQP connection.blocked) until consumers bring usage back under the marks. Three things are
 * watched, because any one of them ending the process would be a crash rather than back-pressure:
 *   - message bodies held in memory, accounted on every add and remove (paged-out messages hold none);
 *   - the process's RSS against a share of the machine's (or container's) memory, sampled;
 *   - the V8 heap against its hard limit, sampled: every queued message costs index objects on the heap even
 *     when its body is on disk, and a heap that reaches its limit ends the process.
 */
export class MemoryMonitor {
  /** Message body bytes held in memory. */
  used = 0;
  /** The last process sample (zeros until the first). */
  last: MemorySample = { rss: 0, heapUsed: 0, heapLimit: 0, totalMemory: 0 };
  private bodiesOver = false;
  private processOver: string | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly marks: MemoryWatermarks,
    private readonly alarms: ResourceAlarms,
    private readonly probe: MemoryProbe = processMemory,
    private readonly logger?: Logger,
  ) {}

  get blocked(): boolean {
    return this.alarms.isRaised('memory');
  }

  /** Bytes of RSS allowed: the vm watermark resolved against the machine's memory. */
  get vmLimit(): number {
    const vm = this.marks.vm;
    return vm <= 1 ? Math.floor(vm * this.last.totalMemory) : vm;
  }

  get heapLimit(): number {
    return Math.floor(this.marks.heap * this.last.heapLimit);
  }

  add(msg: Message): void {
    this.used += msg.body.length;
    if (!this.bodiesOver && this.used > this.marks.bodies) {
      this.bodiesOver = true;
      this.update();
    }
  }

  remove(msg: Message): void {
    this.used -= msg.body.length;
    if (this.bodiesOver && this.used <= this.marks.bodies) {
      this.bodiesOver = false;
      this.update();
    }
  }

  /** Samples the process every `intervalMs` until stop(); the timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (this.timer !== undefined || intervalMs <= 0) return;
    this.check();
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample of the process against the vm and heap marks. */
  check(): void {
    const s = this.probe();
    this.last = s;
    let over: string | undefined;
    if (s.totalMemory > 0 && this.marks.vm > 0 && s.rss > this.vmLimit) {
      over = `rss ${mib(s.rss)} above vm_memory_high_watermark ${mib(this.vmLimit)}`;
    } else if (s.heapLimit > 0 && this.marks.heap > 0 && s.heapUsed > this.heapLimit) {
      over = `heap ${mib(s.heapUsed)} above ${this.marks.heap} of the V8 heap limit (${mib(this.heapLimit)})`;
    }
    if ((over === undefined) === (this.processOver === undefined)) {
      this.processOver = over;
      return;
    }
    this.processOver = over;
    this.update();
  }

  /** Why the alarm is raised, for logs and the management API; undefined when it is not. */
  get reason(): string | undefined {
    if (this.bodiesOver) return `message bodies ${mib(this.used)} above ${mib(this.marks.bodies)}`;
    return this.processOver;
  }

  private update(): void {
    const raise = this.bodiesOver || this.processOver !== undefined;
    if (raise === this.blocked) return;
    if (raise) this.logger?.warn({ reason: this.reason }, 'memory alarm raised: publishers are blocked');
    else this.logger?.info({ rss: this.last.rss, heapUsed: this.last.heapUsed }, 'memory alarm cleared');
    this.alarms.set('memory', raise);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
