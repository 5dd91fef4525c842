/**
 * What producers and consumers of one run share: the clock windows and the totals behind --max-backlog.
 * Everything runs on one event loop, so plain numbers suffice (no atomics).
 */

export function nowNs(): number {
  // Absolute CLOCK_MONOTONIC ns as a double: exact below 2^53 ns (104 days of uptime), and a few ns coarse
  // beyond, which is far below anything a latency percentile can show.
  return Number(process.hrtime.bigint());
}

/** A producer waiting for the backlog to shrink. */
export interface Resumable {
  resume(): void;
}

export class RunContext {
  /** When this run began (before setup): deliveries stamped earlier come from someone else's run. */
  readonly startNs = nowNs();
  /** Producers start together at t0. */
  t0Ns = Infinity;
  /** Measurement window [winStartNs, winEndNs); winEndNs is Infinity with --count. */
  winStartNs = Infinity;
  winEndNs = Infinity;
  /** Producers stop publishing here (duration runs). */
  endNs = Infinity;
  published = 0;
  consumed = 0;
  private readonly waiting: Resumable[] = [];

  constructor(
    /** Copies each published message makes: the fanout queue count, else 1. */
    readonly copies: number,
    readonly maxBacklog: number,
    /** With no consumers there is nothing to bound the backlog against. */
    private readonly consumers: number,
  ) {}

  start(warmupS: number, durationS: number, counted: boolean): void {
    this.t0Ns = nowNs();
    this.winStartNs = this.t0Ns + warmupS * 1e9;
    this.winEndNs = counted ? Infinity : this.winStartNs + durationS * 1e9;
    this.endNs = this.winEndNs;
  }

  backlog(): number {
    return this.published * this.copies - this.consumed;
  }

  /** True (and the producer is queued for resume) when the backlog is over --max-backlog. */
  holdBack(p: Resumable): boolean {
    if (this.maxBacklog === 0 || this.consumers === 0 || this.backlog() <= this.maxBacklog) return false;
    if (!this.waiting.includes(p)) this.waiting.push(p);
    return true;
  }

  /** Called by consumers after each socket chunk: resumes waiting producers below 3/4 of the bound. */
  afterConsume(): void {
    if (this.waiting.length === 0 || this.backlog() >= this.maxBacklog * 0.75) return;
    const ps = this.waiting.splice(0);
    for (const p of ps) p.resume();
  }

  /** Resumes everyone, e.g. to let producers notice the end of the run. */
  releaseAll(): void {
    for (const p of this.waiting.splice(0)) p.resume();
  }
}
