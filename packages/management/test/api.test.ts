import { Broker } from '@warren/core';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createManagementApp, listenManagement } from '../src';

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const basic = (user: string, pw: string): string =>
  `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

let broker: Broker;
let app: FastifyInstance;
let base: string;

/** Serves an app on a free loopback port (guest may log in from loopback only, as over AMQP). */
async function serve(server: FastifyInstance): Promise<string> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  broker = new Broker();
  await broker.start();
  ({ app } = createManagementApp({ broker, productVersion: '9.9.9' }));
  base = await serve(app);
});

afterEach(async () => {
  await app.close();
  await broker.close();
});

interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request over HTTP; the reply with its body read. */
async function call(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
  auth = GUEST,
  at = base,
): Promise<Reply> {
  const res = await fetch(`${at}${url}`, {
    method,
    headers: { ...(auth === '' ? {} : { authorization: auth }), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    json: () => JSON.parse(text),
  };
}

describe('authentication and tags', () => {
  test('no or wrong credentials: 401 with the realm, as RabbitMQ', async () => {
    for (const auth of ['', basic('guest', 'nope'), basic('nobody', 'x')]) {
      const res = await call('GET', '/api/overview', undefined, auth);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="RabbitMQ Management"');
      expect(res.json()).toEqual({ error: 'not_authorized', reason: 'Login failed' });
    }
  });

  test('a user without a management tag is refused; management may not list users', async () => {
    broker.users.add('plain', 'pw', []);
    broker.users.add('mgr', 'pw', ['management']);
    broker.users.setPermissions('mgr', '/', { configure: '.*', write: '.*', read: '.*' });
    const plain = await call('GET', '/api/overview', undefined, basic('plain', 'pw'));
    expect(plain.statusCode).toBe(401);
    expect(plain.json().reason).toBe('Not management user');
    expect((await call('GET', '/api/overview', undefined, basic('mgr', 'pw'))).statusCode).toBe(200);
    expect((await call('GET', '/api/users', undefined, basic('mgr', 'pw'))).statusCode).toBe(403);
    expect((await call('GET', '/api/whoami', undefined, basic('mgr', 'pw'))).json()).toEqual({
      name: 'mgr',
      tags: ['management'],
    });
  });

  test('a management user sees only the vhosts it has permissions on', async () => {
    broker.addVhost('other');
    broker.users.add('mgr', 'pw', ['management']);
    broker.users.setPermissions('mgr', '/', { configure: '.*', write: '.*', read: '.*' });
    const res = await call('GET', '/api/vhosts', undefined, basic('mgr', 'pw'));
    expect(res.json().map((v: { name: string }) => v.name)).toEqual(['/']);
    expect((await call('GET', '/api/queues/other', undefined, basic('mgr', 'pw'))).statusCode).toBe(401);
  });
});

describe('errors', () => {
  test('unknown path 404, wrong method 405 with Allow, malformed JSON 400', async () => {
    const missing = await call('GET', '/api/nothing');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    const wrong = await call('POST', '/api/overview', {});
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers['allow']).toContain('GET');
    const bad = await call('PUT', '/api/queues/%2F/q', '{bad');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'bad_request', reason: 'not_json' });
    const badBool = await call('PUT', '/api/queues/%2F/q', { durable: 'maybe' });
    expect(badBool.statusCode).toBe(400);
    expect(badBool.json().error).toBe('bad_request');
  });

  test('core errors map to RabbitMQ statuses: reserved names 403, inequivalent redeclare 400', async () => {
    expect((await call('PUT', '/api/exchanges/%2F/amq.mine', { type: 'direct' })).statusCode).toBe(403);
    expect((await call('PUT', '/api/queues/%2F/q', { durable: true })).statusCode).toBe(201);
    const redeclare = await call('PUT', '/api/queues/%2F/q', { durable: false });
    expect(redeclare.statusCode).toBe(400);
    expect(redeclare.json().reason).toContain("inequivalent arg 'durable'");
  });
});

describe('queues, exchanges, bindings, publish and get', () => {
  test('declare, bind, publish, get with requeue, purge, delete', async () => {
    expect(
      (await call('PUT', '/api/exchanges/%2F/orders', { type: 'topic', durable: 'true' })).statusCode,
    ).toBe(201);
    expect((await call('PUT', '/api/exchanges/%2F/orders', { type: 'topic' })).statusCode).toBe(204);
    expect(
      (await call('PUT', '/api/queues/%2F/eu', { durable: true, arguments: { 'x-max-length': 10 } }))
        .statusCode,
    ).toBe(201);
    const bind = await call('POST', '/api/bindings/%2F/e/orders/q/eu', { routing_key: 'order.#' });
    expect(bind.statusCode).toBe(201);
    expect(bind.headers['location']).toBe('eu/order.%23');
    expect((await call('GET', '/api/bindings/%2F/e/orders/q/eu/order.%23')).json()).toMatchObject({
      source: 'orders',
      destination: 'eu',
      destination_type: 'queue',
      routing_key: 'order.#',
      properties_key: 'order.%23',
    });

    const routed = await call('POST', '/api/exchanges/%2F/orders/publish', {
      routing_key: 'order.eu.1',
      payload: 'hello',
      payload_encoding: 'string',
      properties: { content_type: 'text/plain', headers: { n: 1 } },
    });
    expect(routed.json()).toEqual({ routed: true });
    const unrouted = await call('POST', '/api/exchanges/%2F/orders/publish', {
      routing_key: 'invoice',
      payload: 'x',
      properties: {},
    });
    expect(unrouted.json()).toEqual({ routed: false });
    await call('POST', '/api/exchanges/%2F/amq.default/publish', {
      routing_key: 'eu',
      payload: Buffer.from([0xff, 0x00]).toString('base64'),
      payload_encoding: 'base64',
      properties: {},
    });

    const got = await call('POST', '/api/queues/%2F/eu/get', {
      count: '5',
      ackmode: 'ack_requeue_true',
      encoding: 'auto',
    });
    expect(got.json()).toEqual([
      expect.objectContaining({
        payload: 'hello',
        payload_encoding: 'string',
        routing_key: 'order.eu.1',
        exchange: 'orders',
        redelivered: false,
        message_count: 1,
        properties: { content_type: 'text/plain', headers: { n: 1 } },
      }),
      expect.objectContaining({
        payload: '/wA=',
        payload_encoding: 'base64',
        payload_bytes: 2,
        message_count: 0,
      }),
    ]);
    const queue = (await call('GET', '/api/queues/%2F/eu')).json();
    expect(queue).toMatchObject({
      name: 'eu',
      vhost: '/',
      durable: true,
      messages: 2,
      messages_ready: 2,
      type: 'classic',
    });
    expect(queue.message_stats).toMatchObject({ publish: 2, deliver_get: 2, redeliver: 0 });

    const again = await call('POST', '/api/queues/%2F/eu/get', { count: 1, ackmode: 'ack_requeue_false' });
    expect(again.json()[0]).toMatchObject({ payload: 'hello', redelivered: true });
    expect((await call('DELETE', '/api/queues/%2F/eu/contents')).statusCode).toBe(204);
    expect((await call('GET', '/api/queues/%2F/eu')).json().messages).toBe(0);

    expect((await call('DELETE', '/api/exchanges/%2F/orders?if-unused=true')).statusCode).toBe(400);
    expect((await call('DELETE', '/api/bindings/%2F/e/orders/q/eu/order.%23')).statusCode).toBe(204);
    expect((await call('DELETE', '/api/exchanges/%2F/orders?if-unused=true')).statusCode).toBe(204);
    expect((await call('DELETE', '/api/queues/%2F/eu')).statusCode).toBe(204);
    expect((await call('GET', '/api/queues/%2F/eu')).statusCode).toBe(404);
  });

  test('a user without write permission cannot publish through the API', async () => {
    broker.users.add('reader', 'pw', ['management']);
    broker.users.setPermissions('reader', '/', { configure: '', write: '', read: '.*' });
    const res = await call(
      'POST',
      '/api/exchanges/%2F/amq.direct/publish',
      { routing_key: 'k', payload: 'x', properties: {} },
      basic('reader', 'pw'),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json().reason).toContain('ACCESS_REFUSED');
  });
});

describe('lists', () => {
  test('pagination envelope, name filter, columns and sort as RabbitMQ', async () => {
    const vhost = broker.vhosts.get('/');
    for (let i = 0; i < 1200; i++) {
      vhost?.declareQueue(
        `q${String(i).padStart(4, '0')}`,
        { durable: false, exclusive: false, autoDelete: false, arguments: {} },
        undefined,
      );
    }
    const page = (
      await call('GET', '/api/queues/%2F?page=1&page_size=500&name=Q1&columns=name,messages')
    ).json();
    expect(page).toMatchObject({
      filtered_count: 200,
      item_count: 200,
      page: 1,
      page_count: 1,
      total_count: 1200,
    });
    expect(page.items[0]).toEqual({ name: 'q1000', messages: 0 });
    expect((await call('GET', '/api/queues/%2F?page=2&page_size=500&name=q1')).json().error).toBe(
      'page_out_of_range',
    );
  });

  test('pages, columns with dotted paths, reverse sort, bad parameters', async () => {
    const vhost = broker.vhosts.get('/');
    for (let i = 0; i < 25; i++) {
      vhost?.declareQueue(
        `q${String(i).padStart(2, '0')}`,
        { durable: false, exclusive: false, autoDelete: false, arguments: {} },
        undefined,
      );
    }
    const page = (
      await call('GET', '/api/queues?page=2&page_size=10&columns=name,message_stats.publish')
    ).json();
    expect(page).toEqual({
      filtered_count: 25,
      item_count: 10,
      items: Array.from({ length: 10 }, (_, i) => ({ name: `q${10 + i}`, message_stats: { publish: 0 } })),
      page: 2,
      page_count: 3,
      page_size: 10,
      total_count: 25,
    });
    const filtered = (
      await call('GET', '/api/queues?page=1&name=^q2&use_regex=true&columns=name&sort=name&sort_reverse=true')
    ).json();
    expect(filtered.items.map((q: { name: string }) => q.name)).toEqual(['q24', 'q23', 'q22', 'q21', 'q20']);
    expect(filtered.filtered_count).toBe(5);
    expect((await call('GET', '/api/queues?page=1&page_size=501')).json().error).toBe(
      'invalid_pagination_parameters',
    );
    expect((await call('GET', '/api/queues?page=9')).json().error).toBe('page_out_of_range');
    expect((await call('GET', '/api/queues?columns=name')).json()).toHaveLength(25);
  });

  test('10,000 queues list a page quickly', async () => {
    const vhost = broker.vhosts.get('/');
    for (let i = 0; i < 10_000; i++) {
      vhost?.declareQueue(
        `bulk-${i}`,
        { durable: false, exclusive: false, autoDelete: false, arguments: {} },
        undefined,
      );
    }
    const started = performance.now();
    const res = await call('GET', '/api/queues?page=7&page_size=500&columns=name');
    expect(res.json()).toMatchObject({ total_count: 10_000, item_count: 500, page_count: 20 });
    // Generous: the point is that nothing is quadratic (which would take minutes), not a benchmark.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('overview, nodes, health', () => {
  test('overview says Warren, its version, totals and rates', async () => {
    broker.vhosts
      .get('/')
      ?.declareQueue('q', { durable: false, exclusive: false, autoDelete: false, arguments: {} }, undefined);
    const o = (await call('GET', '/api/overview')).json();
    expect(o).toMatchObject({
      product_name: 'Warren',
      product_version: '9.9.9',
      rabbitmq_version: '3.13.0',
      queue_totals: { messages: 0, messages_ready: 0, messages_unacknowledged: 0 },
      object_totals: { queues: 1, exchanges: 6, connections: 0, channels: 0, consumers: 0 },
    });
    expect(o.message_stats.publish_details).toEqual({ rate: 0 });
    expect(o.node).toMatch(/^warren@/);
  });

  test('rates: messages per second between two samples', async () => {
    const { app: sampled, rates } = createManagementApp({
      broker,
      productVersion: '1',
      sampleIntervalMs: 3_600_000,
    });
    try {
      await call('PUT', '/api/queues/%2F/r', {});
      rates.tick();
      for (let i = 0; i < 10; i++) {
        await call('POST', '/api/exchanges/%2F/amq.default/publish', {
          routing_key: 'r',
          payload: 'x',
          properties: {},
        });
      }
      // A sample taken at least a little later: the rate is 10 messages over that span, so it is positive.
      await new Promise((resolve) => setTimeout(resolve, 50));
      rates.tick();
      const q = (await call('GET', '/api/queues/%2F/r', undefined, GUEST, await serve(sampled))).json();
      expect(q.message_stats.publish).toBe(10);
      expect(q.message_stats.publish_details.rate).toBeGreaterThan(0);
    } finally {
      await sampled.close();
    }
  });

  test('health checks, nodes, aliveness test', async () => {
    expect((await call('GET', '/api/health/checks/alarms')).json()).toEqual({ status: 'ok' });
    broker.alarms.set('memory', true);
    const alarmed = await call('GET', '/api/health/checks/alarms');
    expect(alarmed.statusCode).toBe(503);
    expect(alarmed.json().status).toBe('failed');
    broker.alarms.set('memory', false);
    expect((await call('GET', '/api/aliveness-test/%2F')).json()).toEqual({ status: 'ok' });
    expect((await call('GET', '/api/aliveness-test/%2F')).json()).toEqual({ status: 'ok' });
    expect((await call('GET', '/api/queues/%2F/aliveness-test')).json().messages).toBe(0);
    const [node] = (await call('GET', '/api/nodes')).json();
    expect(node).toMatchObject({ running: true, mem_alarm: false, disk_free_alarm: false });
    expect(node.mem_used).toBeGreaterThan(0);
    expect((await call('GET', `/api/nodes/${encodeURIComponent(node.name)}`)).statusCode).toBe(200);
    expect((await call('GET', '/api/health/checks/port-listener/1')).statusCode).toBe(503);
  });
});

describe('over a real socket', () => {
  test('fetch with Basic auth; close refuses new connections', async () => {
    const listener = await listenManagement({ broker, productVersion: '1', host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${listener.address.port}/api/overview`;
    const res = await fetch(url, { headers: { authorization: GUEST } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { product_name: string }).product_name).toBe('Warren');
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    await listener.close();
    await expect(fetch(url, { headers: { authorization: GUEST } })).rejects.toThrow();
  });
});

describe('live administration', () => {
  const ALL = { configure: '.*', write: '.*', read: '.*' };

  test('PUT /api/users/:user creates and changes a user; DELETE closes its connections', async () => {
    expect((await call('PUT', '/api/users/dana', { password: 'one', tags: 'monitoring' })).statusCode).toBe(
      201,
    );
    expect((await call('GET', '/api/whoami', undefined, basic('dana', 'one'))).json()).toEqual({
      name: 'dana',
      tags: ['monitoring'],
    });
    expect(
      (await call('PUT', '/api/users/dana', { password: 'two', tags: 'administrator' })).statusCode,
    ).toBe(204);
    expect((await call('GET', '/api/whoami', undefined, basic('dana', 'one'))).statusCode).toBe(401);
    expect((await call('GET', '/api/users/dana', undefined, basic('dana', 'two'))).json()).toMatchObject({
      name: 'dana',
      tags: ['administrator'],
      hashing_algorithm: 'rabbit_password_hashing_sha256',
    });
    const bad = await call('PUT', '/api/users/eve', { password_hash: 'x', hashing_algorithm: 'rot13' });
    expect(bad.statusCode).toBe(400);

    broker.users.setPermissions('dana', '/', ALL);
    const connection = broker.connect(broker.authenticate('dana', 'two', true), '/', {
      protocol: 'amqp',
      remoteAddress: '127.0.0.1',
      remotePort: 40000,
    });
    const closedWith: string[] = [];
    connection.onForcedClose = (err) => {
      closedWith.push(err.message);
      connection.close();
    };
    expect((await call('DELETE', '/api/users/dana')).statusCode).toBe(204);
    expect(closedWith).toEqual(["user 'dana' is deleted"]);
    expect((await call('GET', '/api/users/dana')).statusCode).toBe(404);
    expect((await call('DELETE', '/api/users/dana')).statusCode).toBe(404);
  });

  test('PUT and DELETE /api/permissions and /api/topic-permissions take effect at once', async () => {
    broker.users.add('fred', 'pw', ['management']);
    // No permissions on / yet: RabbitMQ answers 401 for a vhost the user may not use.
    expect((await call('GET', '/api/queues/%2F', undefined, basic('fred', 'pw'))).statusCode).toBe(401);
    expect(
      (await call('PUT', '/api/permissions/%2F/fred', { configure: '^fred-', write: '.*', read: '.*' }))
        .statusCode,
    ).toBe(201);
    expect((await call('GET', '/api/permissions/%2F/fred')).json()).toMatchObject({
      user: 'fred',
      vhost: '/',
      configure: '^fred-',
    });
    // fred may now declare what his configure pattern allows, and only that.
    expect((await call('PUT', '/api/queues/%2F/fred-q', {}, basic('fred', 'pw'))).statusCode).toBe(201);
    expect((await call('PUT', '/api/queues/%2F/other-q', {}, basic('fred', 'pw'))).statusCode).toBe(403);

    const topic = { exchange: 'amq.topic', write: '^fred\\.', read: '.*' };
    expect((await call('PUT', '/api/topic-permissions/%2F/fred', topic)).statusCode).toBe(201);
    expect((await call('GET', '/api/topic-permissions/%2F/fred')).json()).toEqual([
      { user: 'fred', vhost: '/', ...topic },
    ]);
    const publish = (key: string) =>
      call(
        'POST',
        '/api/exchanges/%2F/amq.topic/publish',
        {
          properties: {},
          routing_key: key,
          payload: 'x',
          payload_encoding: 'string',
        },
        basic('fred', 'pw'),
      );
    expect((await publish('fred.news')).statusCode).toBe(200);
    expect((await publish('boss.news')).statusCode).toBe(403);
    expect((await call('DELETE', '/api/topic-permissions/%2F/fred')).statusCode).toBe(204);
    expect((await publish('boss.news')).statusCode).toBe(200);

    expect((await call('DELETE', '/api/permissions/%2F/fred')).statusCode).toBe(204);
    expect((await call('PUT', '/api/queues/%2F/fred-q2', {}, basic('fred', 'pw'))).statusCode).toBe(401);
  });

  test('GET /api/definitions exports and POST imports; a bad file is a 400 that changes nothing', async () => {
    expect((await call('PUT', '/api/vhosts/shop', {})).statusCode).toBe(201);
    expect(
      (await call('PUT', '/api/queues/shop/orders', { durable: true, arguments: { 'x-max-length': 10 } }))
        .statusCode,
    ).toBe(201);
    const exported = (await call('GET', '/api/definitions')).json();
    expect(exported.vhosts.map((v: { name: string }) => v.name)).toContain('shop');
    expect(exported.queues).toContainEqual(
      expect.objectContaining({
        name: 'orders',
        vhost: 'shop',
        durable: true,
        arguments: { 'x-max-length': 10 },
      }),
    );

    expect((await call('DELETE', '/api/vhosts/shop')).statusCode).toBe(204);
    expect((await call('POST', '/api/definitions', exported)).statusCode).toBe(204);
    expect((await call('GET', '/api/queues/shop/orders')).json()).toMatchObject({ durable: true });

    const broken = {
      ...exported,
      vhosts: [{ name: 'half' }],
      queues: [{ name: 'q', vhost: 'half', arguments: { 'x-max-length': 'ten' } }],
    };
    const refused = await call('POST', '/api/definitions', broken);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toBe('bad_request');
    expect((await call('GET', '/api/vhosts/half')).statusCode).toBe(404);
  });

  test('GET /api/connections lists names as RabbitMQ; DELETE closes one with CONNECTION_FORCED', async () => {
    const connection = broker.connect(broker.authenticate('guest', 'guest', true), '/', {
      protocol: 'amqp',
      remoteAddress: '127.0.0.1',
      remotePort: 50722,
      localAddress: '127.0.0.1',
      localPort: 5672,
    });
    const closedWith: string[] = [];
    connection.onForcedClose = (err) => {
      closedWith.push(`${err.code} - ${err.message}`);
      connection.close();
    };
    const [listed] = (await call('GET', '/api/connections')).json();
    expect(listed).toMatchObject({ name: '127.0.0.1:50722 -> 127.0.0.1:5672', user: 'guest', vhost: '/' });
    const path = `/api/connections/${encodeURIComponent(listed.name)}`;
    expect((await call('GET', path)).json().peer_port).toBe(50722);
    const res = await fetch(`${base}${path}`, {
      method: 'DELETE',
      headers: { authorization: GUEST, 'x-reason': 'maintenance' },
    });
    expect(res.status).toBe(204);
    expect(closedWith).toEqual(['CONNECTION_FORCED - maintenance']);
    expect((await call('GET', '/api/connections')).json()).toEqual([]);
    expect((await call('GET', path)).statusCode).toBe(404);
  });
});
