import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Journal } from '@warren/journal';
import { message, openJournal, Q, recordingLogger, removeDir, tempDir, writeDurable } from './support';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

const body = (i: number): string => `message-${String(i).padStart(4, '0')}`;

/** Ten messages, one batch each, then closed: the segment file holding them, and its bytes. */
async function tenMessages(): Promise<{ file: string; bytes: Buffer }> {
  const j = await openJournal(dir);
  for (let i = 1; i <= 10; i++) {
    await writeDurable(j, [{ op: 'enqueue', queue: Q('q'), id: i, message: message(i, body(i)) }]);
  }
  await j.close();
  for (const name of (await readdir(dir)).sort().reverse()) {
    const bytes = await readFile(join(dir, name));
    if (bytes.includes(body(1))) return { file: join(dir, name), bytes };
  }
  throw new Error('no segment holds the messages');
}

async function bodiesAfterReopen(
  logger = recordingLogger(),
): Promise<{ bodies: string[]; journal: Journal }> {
  const journal = await openJournal(dir, { logger });
  const state = await journal.recover();
  const bodies = (state.messages.get(Q('q')) ?? []).map((m) => m.message?.body.toString() ?? '');
  return { bodies, journal };
}

const all = Array.from({ length: 10 }, (_, i) => body(i + 1));

describe('recovery from damaged segments', () => {
  it('cuts a truncated last record, logs what it dropped, and keeps every record before it', async () => {
    const { file, bytes } = await tenMessages();
    await truncate(file, bytes.length - 3);
    const logger = recordingLogger();
    const { bodies, journal } = await bodiesAfterReopen(logger);
    expect(bodies).toEqual(all.slice(0, 9));
    expect(journal.report.truncated).toHaveLength(1);
    expect(logger.lines.some((l) => l.level === 'warn' && /torn or corrupt tail/.test(l.msg ?? ''))).toBe(
      true,
    );
    // Cut on disk, so the journal goes on from a clean state.
    expect((await stat(file)).size).toBe(journal.report.truncated[0]?.offset);
    await writeDurable(journal, [{ op: 'enqueue', queue: Q('q'), id: 11, message: message(11, body(11)) }]);
    await journal.close();
    const again = await bodiesAfterReopen();
    expect(again.bodies).toEqual([...all.slice(0, 9), body(11)]);
    expect(again.journal.report.truncated).toEqual([]);
    await again.journal.close();
  });

  it('drops only the last record when a byte of it is flipped in the last segment', async () => {
    const { file, bytes } = await tenMessages();
    const at = bytes.lastIndexOf(body(10)) + 3;
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(file, bytes);
    const { bodies, journal } = await bodiesAfterReopen();
    await journal.close();
    expect(bodies).toEqual(all.slice(0, 9));
    // The damaged body is skipped, so the queue entry after it has no message: reported, not restored.
    expect(journal.report.skipped).toHaveLength(1);
    expect(journal.report.lostEntries).toEqual([{ queue: Q('q'), id: 10 }]);
  });

  it('skips only the damaged record when a byte in the middle of a segment is flipped, and still starts', async () => {
    const { file, bytes } = await tenMessages();
    const at = bytes.indexOf(body(5)) + 2;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    await writeFile(file, bytes);
    const logger = recordingLogger();
    const { bodies, journal } = await bodiesAfterReopen(logger);
    expect(bodies).toEqual(all.filter((b) => b !== body(5)));
    expect(journal.report.skipped).toHaveLength(1);
    expect(journal.report.truncated).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'error' && /corrupt region/.test(l.msg ?? ''))).toBe(true);
    await journal.close();
  });

  it('skips a record whose length field is damaged without losing the ones after it', async () => {
    const { file, bytes } = await tenMessages();
    // The length u32 sits 9 + 8*3 + 4*2 ... bytes before the body; find record 3's start by its id field.
    const at = bytes.indexOf(body(3));
    // Walk back to the record start: the payload begins with id f64, exchange str, routing key str, properties.
    let start = at;
    while (
      start > 0 &&
      !(bytes.readUInt32LE(start) > 0 && bytes[start + 8] === 3 && bytes.readDoubleLE(start + 9) === 3)
    ) {
      start--;
    }
    bytes.writeUInt32LE(7, start);
    await writeFile(file, bytes);
    const { bodies, journal } = await bodiesAfterReopen();
    expect(bodies).toEqual(all.filter((b) => b !== body(3)));
    await journal.close();
  });

  it('starts from a directory with an empty or garbage segment file', async () => {
    await tenMessages();
    await writeFile(join(dir, '000000000999.wseg'), Buffer.alloc(0));
    await writeFile(join(dir, '000000000998.wseg'), Buffer.from('not a journal at all, just some bytes'));
    const { bodies, journal } = await bodiesAfterReopen();
    expect(bodies).toEqual(all);
    expect(journal.report.badHeaders).toContain(998);
    await journal.close();
  });
});
