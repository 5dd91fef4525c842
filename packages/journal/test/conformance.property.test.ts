import fc from 'fast-check';
import { MemoryStore } from '@warren/core';
import type { Journal } from '@warren/journal';
import { command, OpBuilder, type Command } from './arbitraries';
import { normalize, openJournal, removeDir, tempDir, writeDurable } from './support';

/*
 * The journal must recover exactly what MemoryStore (the reference) holds after the same operations, across
 * reopenings, segment rollovers, deletions and compactions.
 */

async function run(commands: Command[], segmentSize: number): Promise<void> {
  const dir = await tempDir();
  const memory = new MemoryStore();
  let journal: Journal = await openJournal(dir, { segmentSize });
  const ops = new OpBuilder();
  const flush = async (): Promise<void> => {
    const batch = ops.take();
    if (batch.length === 0) return;
    await writeDurable(memory, batch);
    // Not awaited one by one: consecutive batches must also coalesce and complete in order.
    journal.write(batch, () => {});
  };
  try {
    for (const cmd of commands) {
      if (ops.add(cmd)) continue;
      await flush();
      if (cmd.c === 'idle') {
        await journal.idle();
        expect(journal.audit()).toEqual([]);
      }
      if (cmd.c === 'reopen') {
        await journal.close();
        journal = await openJournal(dir, { segmentSize });
        expect(journal.audit()).toEqual([]);
        expect(normalize(await journal.recover())).toEqual(normalize(await memory.recover()));
      }
    }
    await flush();
    await journal.idle();
    expect(journal.audit()).toEqual([]);
    expect(normalize(await journal.recover())).toEqual(normalize(await memory.recover()));
    await journal.close();
    journal = await openJournal(dir, { segmentSize });
    expect(normalize(await journal.recover())).toEqual(normalize(await memory.recover()));
    expect(journal.report.skipped).toEqual([]);
    expect(journal.report.truncated).toEqual([]);
  } finally {
    await journal.close();
    await removeDir(dir);
  }
}

/**
 * Each run opens, fills, fsyncs and reopens a real journal: tens of milliseconds alone, seconds on two cores
 * shared with other suites (CI runs the fresh-clone suite beside its own). The deadline is for a hang, not a
 * measure of speed.
 */
const DEADLINE_MS = 180_000;

describe('the journal recovers what MemoryStore holds after the same operations', () => {
  it(
    'with segments large enough that nothing rolls over',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 80 }), (cmds) => run(cmds, 64 * 1024 * 1024)),
        { numRuns: 40 },
      );
    },
    DEADLINE_MS,
  );

  it(
    'with tiny segments, so rollover, deletion and compaction happen all the time',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 150, size: 'max' }), (cmds) => run(cmds, 1024)),
        { numRuns: 40 },
      );
    },
    DEADLINE_MS,
  );

  it(
    'over long histories with tiny segments',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 400, maxLength: 800 }), (cmds) => run(cmds, 2048)),
        { numRuns: 4 },
      );
    },
    DEADLINE_MS,
  );
});
