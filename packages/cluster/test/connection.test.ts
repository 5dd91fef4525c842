import { connectCluster, parseVersion, type ClusterConnection } from '@warren/cluster';
import { describeWith } from '../../../test/support/requires';
import { clusterFixture, until, type ClusterFixture } from './support';

test('server versions parse, with or without a v and a suffix', () => {
  expect(parseVersion('2.9.10')).toEqual([2, 9, 10]);
  expect(parseVersion('v2.10.0-beta.1')).toEqual([2, 10, 0]);
  expect(parseVersion('nonsense')).toEqual([0, 0, 0]);
});

describeWith(['nats-server'], 'connectCluster and the test cluster', () => {
  let f: ClusterFixture;
  let conn: ClusterConnection | undefined;

  beforeAll(async () => {
    f = await clusterFixture();
  }, 60_000);
  afterAll(async () => {
    await conn?.close();
    await f?.close();
  });

  test('the servers listen on their own ports, never the defaults, and report their version', () => {
    const ports = f.cluster.urls.map((u) => Number(new URL(u).port));
    expect(new Set(ports).size).toBe(3);
    for (const p of ports) expect([4222, 6222, 8222]).not.toContain(p);
    expect(f.cluster.names).toEqual(['n1', 'n2', 'n3']);
    expect(f.conn.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.conn.atLeast(2, 9, 0)).toBe(true);
    expect(f.conn.atLeast(99, 0, 0)).toBe(false);
    const [major, minor, patch] = parseVersion(f.conn.serverVersion);
    expect(f.conn.atLeast(major, minor, patch)).toBe(true);
    expect(f.conn.atLeast(major, minor, patch + 1)).toBe(false);
  });

  test('a connection whose server is killed says so, moves to another server, and says that too', async () => {
    const events: string[] = [];
    const errors: unknown[] = [];
    conn = await connectCluster({
      servers: [f.cluster.urls[0] as string],
      name: 'failover',
      onListenerError: (e) => errors.push(e),
    });
    conn.onDisconnect((s) => events.push(`disconnect ${s}`));
    conn.onReconnect((s) => events.push(`reconnect ${s}`));
    // A listener that throws must not stop the others.
    conn.onReconnect(() => {
      throw new Error('listener bug');
    });
    // The client learns the other servers from the cluster (INFO connect_urls) before it needs them.
    await until('the client knows all three servers', () => (conn?.nc.info?.connect_urls?.length ?? 0) >= 3);
    expect(conn.connected).toBe(true);
    await f.cluster.kill(0);
    await until('reconnected elsewhere', () => events.some((e) => e.startsWith('reconnect')));
    expect(events[0]).toMatch(/^disconnect /);
    expect(events[1]).toMatch(/^reconnect /);
    expect(events[1]).not.toContain(new URL(f.cluster.urls[0] as string).port);
    expect(conn.connected).toBe(true);
    expect(errors.map(String)).toEqual(['Error: listener bug']);
    await f.cluster.restart(0);
    await f.cluster.ready();
  }, 60_000);
});
