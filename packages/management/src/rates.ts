/** RabbitMQ's collect_statistics_interval default: counters are sampled this often. */
export const SAMPLE_INTERVAL_MS = 5000;

/** Samples kept per object: the rate is over the span from the oldest to the newest. */
const RING = 2;

interface Sample {
  at: number;
  values: readonly number[];
}

/**
 * Per-second rates of monotonic counters, as RabbitMQ's `*_details.rate`. A timer samples every object's
 * counters into a small ring each interval; a request reads the ring and does no work per message. Objects
 * are keys of a WeakMap, so a deleted queue's samples go with it. The timer is unref'd (it never keeps the
 * process alive) and guarded: a sampler that throws is reported and the others still run.
 */
export class Rates<K extends object> {
  private readonly rings = new WeakMap<K, Sample[]>();
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    /** The objects to sample now and, for each, its counters in a fixed order. */
    private readonly sample: () => Iterable<[K, readonly number[]]>,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(intervalMs = SAMPLE_INTERVAL_MS): void {
    if (this.timer !== undefined) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of everything now (the timer's work; tests call it to avoid waiting). */
  tick(): void {
    try {
      const at = this.now();
      for (const [key, values] of this.sample()) {
        let ring = this.rings.get(key);
        if (ring === undefined) this.rings.set(key, (ring = []));
        ring.push({ at, values });
        if (ring.length > RING) ring.shift();
      }
    } catch (err) {
      this.onError(err);
    }
  }

  /** The per-second rate of counter `index` of `key` over its ring; 0 until two samples exist. */
  rate(key: K, index: number): number {
    const ring = this.rings.get(key);
    if (ring === undefined || ring.length < 2) return 0;
    const first = ring[0] as Sample;
    const last = ring[ring.length - 1] as Sample;
    const seconds = (last.at - first.at) / 1000;
    if (seconds <= 0) return 0;
    const delta = (last.values[index] ?? 0) - (first.values[index] ?? 0);
    return Math.round((delta / seconds) * 10) / 10;
  }
}
