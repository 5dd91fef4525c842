import amqp, { type ChannelModel } from 'amqplib';
import { ASK_SUBJECT, BARRIER_SUBJECT, connectCluster, HEARTBEAT_SUBJECT } from '@warren/cluster';
import { waitFor } from '@warren/testkit';
import { describeWith } from '../support/requires';
import type { TestBroker } from '../support/warren';
import { startTestCluster, type TestCluster } from './support';

type Row = Record<string, unknown>;

/**
 * The management API of any node answers for the whole cluster, as RabbitMQ's does: an operator who opens
 * node a's console sees the clients of node b, and can close them from there.
 */
describeWith(['nats-server'], 'the management API of a cluster', () => {
  let cluster: TestCluster;
  let a: TestBroker;
  let b: TestBroker;
  const opened: ChannelModel[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster(['a', 'b']);
    [a, b] = cluster.nodes as [TestBroker, TestBroker];
  }, 60_000);
  afterAll(() => cluster?.close());
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => {});
  });

  async function http(
    node: TestBroker,
    path: string,
    init: { method?: string; user?: string; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const user = init.user ?? 'guest:guest';
    const res = await fetch(`http://${node.host}:${node.httpPort}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Basic ${Buffer.from(user).toString('base64')}`,
        'content-type': 'application/json',
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  }
  const rows = async (node: TestBroker, path: string, user?: string): Promise<Row[]> => {
    const { status, body } = await http(node, path, user === undefined ? {} : { user });
    expect(status).toBe(200);
    return body as Row[];
  };

  async function connect(node: TestBroker, name: string, user = 'guest:guest'): Promise<ChannelModel> {
    const conn = await amqp.connect(`amqp://${user}@${node.host}:${node.amqpPort}`, {
      clientProperties: { connection_name: name },
    });
    opened.push(conn);
    return conn;
  }
  const named = (name: string) => (row: Row) =>
    (row['client_properties'] as Row | undefined)?.['connection_name'] === name;

  it("lists every node's connections, channels and consumers, each with its node", async () => {
    const onB = await connect(b, 'client-on-b');
    const ch = await onB.createChannel();
    const { queue } = await ch.assertQueue('mgmt-listed', { durable: true });
    await ch.consume(queue, () => {}, { consumerTag: 'tag-on-b' });
    await connect(a, 'client-on-a');

    const conns = await rows(a, '/api/connections');
    const fromB = conns.find(named('client-on-b'));
    expect(fromB).toMatchObject({
      node: 'b',
      user: 'guest',
      vhost: '/',
      protocol: 'AMQP 0-9-1',
      channels: 1,
    });
    expect(conns.find(named('client-on-a'))).toMatchObject({ node: 'a' });
    // Both nodes list the same connections.
    const names = (list: Row[]) => list.map((r) => r['name']).sort();
    expect(names(await rows(b, '/api/connections'))).toEqual(names(conns));

    const name = fromB?.['name'] as string;
    expect((await http(a, `/api/connections/${encodeURIComponent(name)}`)).body).toMatchObject({
      node: 'b',
      name,
    });
    const channels = await rows(a, `/api/connections/${encodeURIComponent(name)}/channels`);
    expect(channels).toEqual([expect.objectContaining({ node: 'b', number: 1, consumer_count: 1 })]);
    expect((await rows(a, '/api/channels')).map((c) => c['name'])).toContain(channels[0]?.['name']);

    const consumers = await rows(a, '/api/consumers');
    expect(consumers).toContainEqual(
      expect.objectContaining({
        consumer_tag: 'tag-on-b',
        queue: { name: 'mgmt-listed', vhost: '/' },
        channel_details: expect.objectContaining({ connection_name: name }),
      }),
    );

    const overview = (await http(a, '/api/overview')).body as Row;
    expect((overview['object_totals'] as Row)['connections']).toBeGreaterThanOrEqual(2);
    const listeners = overview['listeners'] as Row[];
    expect(listeners).toContainEqual(
      expect.objectContaining({ node: 'b', protocol: 'amqp', port: b.amqpPort }),
    );
    expect(listeners).toContainEqual(
      expect.objectContaining({ node: 'a', protocol: 'amqp', port: a.amqpPort }),
    );
  });

  it('shows a management user without monitoring rights only their own connections, on every node', async () => {
    expect(
      (await http(a, '/api/users/viewer', { method: 'PUT', body: { password: 'pw', tags: 'management' } }))
        .status,
    ).toBe(201);
    const all = { configure: '.*', write: '.*', read: '.*' };
    expect((await http(a, '/api/permissions/%2F/viewer', { method: 'PUT', body: all })).status).toBe(201);
    await connect(b, 'viewer-on-b', 'viewer:pw');
    await connect(b, 'guest-on-b');

    const seen = await rows(a, '/api/connections', 'viewer:pw');
    expect(seen.map((r) => r['user'])).toEqual(['viewer']);
    expect(seen[0]).toMatchObject({ node: 'b' });
    const guests = (await rows(a, '/api/connections')).filter(named('guest-on-b'));
    const other = encodeURIComponent(guests[0]?.['name'] as string);
    expect((await http(a, `/api/connections/${other}`, { user: 'viewer:pw' })).status).toBe(404);
  });

  it("closes another node's connection, with the reason the operator gave", async () => {
    const onB = await connect(b, 'to-close');
    // amqplib reports 320 CONNECTION_FORCED on 'close' only (it does not count it as fatal).
    onB.on('error', () => {});
    const closed = new Promise<Error & { code?: number }>((resolve) => onB.once('close', resolve));
    const row = (await rows(a, '/api/connections')).find(named('to-close'));
    const path = `/api/connections/${encodeURIComponent(row?.['name'] as string)}`;

    const res = await http(a, path, { method: 'DELETE', headers: { 'x-reason': 'maintenance on b' } });
    expect(res.status).toBe(204);
    const err = await closed;
    expect(err.code).toBe(320);
    expect(err.message).toContain('CONNECTION_FORCED - maintenance on b');
    await waitFor(
      async () => !(await rows(a, '/api/connections')).some(named('to-close')),
      10_000,
      'the closed connection gone from the list',
    );
    expect((await http(a, path, { method: 'DELETE' })).status).toBe(404);
  });

  it('lists every node, and a stopped one as not running', async () => {
    const listed = await rows(a, '/api/nodes');
    expect(listed.map((n) => [n['name'], n['running']])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(listed[1]).toMatchObject({ name: 'b', type: 'disc', os_pid: String(process.pid) });
    expect((await http(a, '/api/nodes/b')).body).toMatchObject({ name: 'b', running: true });
    expect((await http(a, '/api/nodes/c')).status).toBe(404);

    await b.close();
    await waitFor(
      async () => (await rows(a, '/api/nodes')).find((n) => n['name'] === 'b')?.['running'] === false,
      20_000,
      'b listed as not running once its heartbeats stop',
    );
    expect(await rows(a, '/api/connections')).not.toContainEqual(expect.objectContaining({ node: 'b' }));
  }, 30_000);

  /**
   * Another node's answer is input like any client's: nodes played over raw NATS, one that never answers and
   * one that answers nonsense, leave a's lists whole; the rows a caller sees are still chosen by a.
   */
  test('a node that answers nothing, or nonsense, leaves the lists whole', async () => {
    const peers = await Promise.all(
      ['mute', 'garbled'].map(async (name) => {
        const conn = await connectCluster({ servers: cluster.nats.urls, name });
        const beat = (): void =>
          conn.nc.publish(HEARTBEAT_SUBJECT, JSON.stringify({ node: name, alarms: [] }));
        conn.nc.subscribe(BARRIER_SUBJECT, { callback: (_err, msg) => void msg.respond(name) });
        conn.nc.subscribe(ASK_SUBJECT, {
          callback: (_err, msg) => {
            if (name === 'mute') return;
            const question = (JSON.parse(msg.string()) as string[])[0];
            const nonsense: Record<string, unknown> = {
              node: 'not json {',
              overview: { node: name, answer: { listeners: 7, vhosts: { '/': 'x' } } },
              connections: {
                node: name,
                answer: [1, null, 'x', { name: 'fake', user: 'someone-else', vhost: '/' }],
              },
            };
            const answer = nonsense[question ?? ''] ?? { node: name, answer: { not: 'a list' } };
            msg.respond(typeof answer === 'string' ? answer : JSON.stringify(answer));
          },
        });
        await conn.nc.flush();
        beat();
        const beating = setInterval(beat, 500);
        return { name, close: async () => (clearInterval(beating), await conn.close()) };
      }),
    );
    try {
      await waitFor(
        async () =>
          (await rows(a, '/api/nodes')).filter((n) => ['mute', 'garbled'].includes(n['name'] as string))
            .length === 2,
        10_000,
        'a hearing of both',
      );
      await connect(a, 'still-listed');
      const conns = await rows(a, '/api/connections');
      expect(conns.find(named('still-listed'))).toMatchObject({ node: 'a' });
      // The one row with a user's name in it is shown to those who may see it, by a's rules.
      expect(conns.filter((r) => r['name'] === 'fake')).toHaveLength(1);
      expect((await rows(a, '/api/connections', 'viewer:pw')).map((r) => r['name'])).toEqual([]);
      for (const path of ['/api/channels', '/api/consumers'])
        expect(Array.isArray(await rows(a, path))).toBe(true);
      const overview = await http(a, '/api/overview');
      expect(overview.status).toBe(200);
      expect((overview.body as Row)['listeners']).toContainEqual(expect.objectContaining({ node: 'a' }));
      const nodes = await rows(a, '/api/nodes');
      expect(nodes.find((n) => n['name'] === 'mute')).toEqual({ name: 'mute', type: 'disc', running: false });
    } finally {
      for (const p of peers) await p.close();
    }
  }, 30_000);
});
