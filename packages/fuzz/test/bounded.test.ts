/**
 * CI's share of the fuzzing: every target for a bounded number of inputs from a fixed seed (so a failure here is
 * reproducible with `npm run fuzz -- <target> --runs N --seed 20261202`). The long runs (10^6 inputs per
 * target) are recorded in docs/fuzzing.md.
 */
import { fuzz, withTargets } from '../src';

const SEED = 20261202;
/** Inputs per target: session targets cost ~1 ms an input, codec targets far less. */
const RUNS: Record<string, number> = {
  'amqp-frames': 1500,
  'amqp-session': 1500,
  'field-table': 5000,
  'stomp-parser': 5000,
  'stomp-session': 1500,
  selector: 5000,
  'ws-framing': 1000,
};

describe('bounded fuzz runs: every invariant holds', () => {
  for (const [name, runs] of Object.entries(RUNS)) {
    test(`${name}: ${runs} inputs, nothing escapes, nothing is lost`, async () => {
      const result = await withTargets(async (targets) => {
        const target = targets.find((t) => t.name === name);
        if (target === undefined) throw new Error(`no fuzz target ${name}`);
        return fuzz(target, { runs, seed: SEED });
      });
      expect(result.failure).toBeUndefined();
      expect(result.runs).toBe(runs);
    }, 120_000);
  }
});
