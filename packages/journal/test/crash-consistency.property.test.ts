import { cpSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MemoryStore } from '@warren/core';
import { command, OpBuilder } from './arbitraries';
import { normalize, openJournal, removeDir, tempDir, writeDurable } from './support';

/*
 * A crash at any moment must leave a directory that recovers to the state after some batch at least as
 * late as every batch already reported durable. The directory is copied synchronously inside a durable
 * callback, while the next group commit and background deletion or compaction are in flight on other
 * threads: what the copy holds is what a crash at that instant would leave (fsync is off, so "written" is
 * "durable" here; deleting a segment before the records that made it dead were written would show up as
 * a lost message or a resurrected one).
 */
describe('a crash at any moment recovers to a state no older than the last durable batch', () => {
  it('holds across rollovers, deletions and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 50, maxLength: 300 }), fc.nat(), async (cmds, seed) => {
        const dir = await tempDir();
        const snaps = await tempDir();
        const memory = new MemoryStore();
        const journal = await openJournal(dir, { segmentSize: 1024 });
        const ops = new OpBuilder();
        /** Reference state after each batch, by batch number. */
        const states: unknown[] = [normalize(await memory.recover())];
        const taken: { path: string; durable: number }[] = [];
        let written = 0;
        try {
          for (const cmd of cmds) {
            if (ops.add(cmd)) continue;
            const batch = ops.take();
            if (batch.length === 0) continue;
            await writeDurable(memory, batch);
            states.push(normalize(await memory.recover()));
            const n = ++written;
            journal.write(batch, () => {
              if ((n + seed) % 3 !== 0) return;
              const path = join(snaps, String(n));
              cpSync(dir, path, { recursive: true });
              taken.push({ path, durable: n });
            });
            if (cmd.c === 'idle') await journal.idle();
          }
          await journal.idle();
          for (const snap of taken) {
            const j = await openJournal(snap.path, { segmentSize: 1024 });
            const got = normalize(await j.recover());
            await j.close();
            const match = states.findIndex(
              (s, i) => i >= snap.durable && JSON.stringify(s, big) === JSON.stringify(got, big),
            );
            if (match < 0) expect(got).toEqual(states[snap.durable]);
          }
        } finally {
          await journal.close();
          await removeDir(dir);
          await removeDir(snaps);
        }
      }),
      { numRuns: 15 },
    );
  });
});

function big(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return [...v.entries()];
  return v;
}
