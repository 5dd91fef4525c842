import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { message, openJournal, Q, removeDir, tempDir, writeDurable } from './support';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

async function dirBytes(): Promise<number> {
  let total = 0;
  // Maintenance deletes files concurrently: one gone between readdir and stat counts as nothing.
  for (const name of await readdir(dir))
    total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  return total;
}

describe('disk use stays bounded', () => {
  it('one old unconsumed message does not pin the segments written after it', async () => {
    const segmentSize = 256 * 1024;
    const j = await openJournal(dir, { segmentSize });
    await writeDurable(j, [{ op: 'enqueue', queue: Q('stuck'), id: 1, message: message(1, 'the old one') }]);
    let id = 1;
    let maxBytes = 0;
    const body = Buffer.alloc(4096, 1);
    // 40 MiB flows through another queue: published, then acked a batch later.
    for (let round = 0; round < 400; round++) {
      const ids: number[] = [];
      const ops = [];
      for (let k = 0; k < 25; k++) {
        ids.push(++id);
        ops.push({ op: 'enqueue' as const, queue: Q('flow'), id, message: message(id, body) });
      }
      await writeDurable(j, ops);
      await writeDurable(
        j,
        ids.map((i) => ({ op: 'settle' as const, queue: Q('flow'), id: i })),
      );
      if (round % 20 === 19) {
        // Sampled while traffic flows, not after a pause: maintenance must keep up on its own.
        maxBytes = Math.max(maxBytes, await dirBytes());
      }
    }
    await j.idle();
    const stats = j.stats();
    expect(stats.segmentsCompacted).toBeGreaterThan(0);
    expect(maxBytes).toBeLessThan(4 * segmentSize);
    await j.close();
    const k = await openJournal(dir, { segmentSize });
    const state = await k.recover();
    expect(state.messages.get(Q('stuck'))?.map((m) => m.message?.body.toString())).toEqual(['the old one']);
    expect(state.messages.get(Q('flow')) ?? []).toEqual([]);
    await k.close();
  });

  it('a large backlog that stays does not keep the dead segments of other traffic', async () => {
    const segmentSize = 128 * 1024;
    const j = await openJournal(dir, { segmentSize });
    const big = Buffer.alloc(8192, 2);
    let id = 0;
    for (let i = 0; i < 100; i++) {
      id++;
      await writeDurable(j, [{ op: 'enqueue', queue: Q('backlog'), id, message: message(id, big) }]);
    }
    for (let round = 0; round < 200; round++) {
      const ops = [];
      const ids: number[] = [];
      for (let k = 0; k < 10; k++) {
        ids.push(++id);
        ops.push({ op: 'enqueue' as const, queue: Q('flow'), id, message: message(id, big) });
      }
      await writeDurable(j, ops);
      await writeDurable(
        j,
        ids.map((i) => ({ op: 'settle' as const, queue: Q('flow'), id: i })),
      );
    }
    await j.idle();
    const { liveBytes, diskBytes } = j.stats();
    expect(liveBytes).toBeGreaterThan(100 * 8192);
    expect(diskBytes).toBeLessThan(2 * liveBytes + 3 * segmentSize);
    await j.close();
  });
});
