import { LogStream } from '@warren/cluster';
import { describeWith } from '../../../test/support/requires';
import { clusterFixture, until, type ClusterFixture } from './support';

/*
 * A stream queue's log: where a reader starts. 'last' is an offset fixed when it is asked for, so a reader
 * that is made later (after consume-ok, while the log grows) still starts there.
 */
describeWith(['nats-server'], 'LogStream on a 3-server JetStream cluster', () => {
  let f: ClusterFixture;
  let n = 0;
  const fresh = (): Promise<LogStream> =>
    LogStream.ensure(f.conn, { vhost: '/', queue: `log${++n}`, replicas: 3 });

  beforeAll(async () => {
    f = await clusterFixture();
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  async function appendAll(log: LogStream, bodies: string[]): Promise<void> {
    for (const b of bodies) await log.append(Buffer.from(b), `${log.name}-${b}`);
  }

  async function readFrom(log: LogStream, start: Parameters<LogStream['read']>[0], want: number) {
    const got: { offset: number; body: string }[] = [];
    const reader = await log.read(start, {
      credit: 100,
      onDelivery: (d) => {
        got.push({ offset: d.seq - 1, body: d.body.toString() });
        d.ack();
      },
      onError: () => undefined,
    });
    await until(`${want} deliveries`, () => got.length >= want);
    reader.close();
    return got;
  }

  test("'last' of an empty log is the next offset: the reader gets what is appended after", async () => {
    const log = await fresh();
    const last = await log.lastOffset();
    expect(last).toEqual({ kind: 'offset', offset: 0 });
    await appendAll(log, ['a', 'b']);
    expect(await readFrom(log, last, 2)).toEqual([
      { offset: 0, body: 'a' },
      { offset: 1, body: 'b' },
    ]);
  });

  test("'last' is the last message when asked; a reader made after more appends still starts there", async () => {
    const log = await fresh();
    await appendAll(log, ['m0', 'm1', 'm2']);
    const last = await log.lastOffset();
    expect(last).toEqual({ kind: 'offset', offset: 2 });
    await appendAll(log, ['m3', 'm4']);
    const got = await readFrom(log, last, 3);
    expect(got.map((m) => m.body)).toEqual(['m2', 'm3', 'm4']);
    await log.delete();
  });
});
