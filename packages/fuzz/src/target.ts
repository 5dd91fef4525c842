import type fc from 'fast-check';

/**
 * One thing to fuzz: how to generate an input, and how to run it against real code while checking the
 * invariants. `run` throws (or rejects) when an invariant breaks; fast-check then shrinks the input to a small
 * counterexample, which becomes a fixture test.
 */
export interface FuzzTarget<T> {
  readonly name: string;
  /** One line for `npm run fuzz -- --list`. */
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<T>;
  run(input: T): Promise<void> | void;
  /** Called once before the first input (a listener to open) and after the last. */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

/** The invariant that failed, with what the fuzzer needs to show it. */
export class InvariantBroken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantBroken';
  }
}

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantBroken(message());
}
