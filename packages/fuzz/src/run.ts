import fc from 'fast-check';
import { EscapeWatch } from './escapes';
import { allTargets } from './targets';
import type { FuzzTarget } from './target';

export interface FuzzResult {
  target: string;
  runs: number;
  seed: number;
  seconds: number;
  /** The shrunk counterexample and fast-check's report, when an invariant broke. */
  failure: string | undefined;
}

export interface FuzzOptions {
  runs: number;
  seed?: number;
  /** Called every `every` inputs with the count so far (long runs print progress). */
  progress?: (done: number) => void;
  every?: number;
}

/** Runs one target for `runs` inputs; resolves with the result (never rejects for a broken invariant). */
export async function fuzz(target: FuzzTarget<unknown>, options: FuzzOptions): Promise<FuzzResult> {
  const seed = options.seed ?? Date.now() ^ (Math.random() * 0x7fffffff);
  const started = process.hrtime.bigint();
  let done = 0;
  const every = options.every ?? 10000;
  await target.setup?.();
  try {
    const report = await fc.check(
      fc.asyncProperty(target.arbitrary, async (input) => {
        await target.run(input);
        if (++done % every === 0) options.progress?.(done);
      }),
      { numRuns: options.runs, seed, includeErrorInReport: true },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      target: target.name,
      runs: report.numRuns,
      seed,
      seconds,
      failure: report.failed ? fc.defaultReportMessage(report) : undefined,
    };
  } finally {
    await target.teardown?.();
  }
}

/** The targets with an escape watch installed for the duration of `fn`. */
export async function withTargets<T>(fn: (targets: FuzzTarget<unknown>[]) => Promise<T>): Promise<T> {
  const watch = new EscapeWatch();
  watch.start();
  try {
    return await fn(allTargets(watch));
  } finally {
    watch.stop();
  }
}
