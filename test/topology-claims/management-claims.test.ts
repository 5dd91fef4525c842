import { WarrenError, type Broker } from '@warren/core';
import { HeldAuthority } from '../support/held-authority';
import { startWarren, type TestBroker } from '../support/warren';

// The management API's topology writes wait for their claims before they answer.

let broker: TestBroker;
let core: Broker;
let authority: HeldAuthority;
let n = 0;
const unique = (base: string): string => `${base}-${process.pid}-${++n}`;

beforeAll(async () => {
  broker = await startWarren();
  core = (broker.server as NonNullable<TestBroker['server']>).broker;
  authority = HeldAuthority.install(core);
});
afterAll(async () => {
  await broker.close();
});
afterEach(() => authority.releaseAll());

function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`http://${broker.host}:${broker.httpPort}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

test('PUT /api/queues answers only once its claim is released', async () => {
  const q = unique('mq');
  let answered = false;
  const put = api('PUT', `/api/queues/%2F/${q}`, { durable: true, arguments: { 'x-max-length': 10 } }).then(
    (r) => {
      answered = true;
      return r;
    },
  );
  const claim = await authority.next('declare-queue');
  expect(claim.change).toMatchObject({ name: q, durable: true, arguments: { 'x-max-length': 10 } });
  expect(answered).toBe(false);
  expect(core.getVhost('/')?.queues.has(q)).toBe(false);
  claim.release();
  const res = await put;
  expect(res.status).toBe(201);
  expect(core.getVhost('/')?.queues.get(q)?.options.durable).toBe(true);
});

test('a rejected claim is the usual 4xx and changes nothing', async () => {
  const x = unique('mx');
  const put = api('PUT', `/api/exchanges/%2F/${x}`, { type: 'fanout', durable: true });
  const claim = await authority.next('declare-exchange');
  claim.reject(new WarrenError('PRECONDITION_FAILED', `inequivalent arg 'type' for exchange '${x}'`));
  const res = await put;
  expect(res.status).toBe(400);
  expect(core.getVhost('/')?.exchanges.has(x)).toBe(false);
});

test('local checks answer before anything is claimed', async () => {
  const before = authority.claims.length;
  const res = await api('PUT', '/api/exchanges/%2F/amq.mine', { type: 'direct' });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(authority.claims.length).toBe(before);
});

test('a binding, a vhost and a definitions import wait for their claims, in order', async () => {
  const q = unique('bq');
  authority.hold = false;
  expect((await api('PUT', `/api/queues/%2F/${q}`, { durable: false })).status).toBe(201);
  authority.hold = true;
  const bind = api('POST', `/api/bindings/%2F/e/amq.direct/q/${q}`, { routing_key: 'k' });
  (await authority.next('bind')).release();
  expect((await bind).status).toBe(201);
  expect(core.getVhost('/')?.queues.get(q)?.bindings.size).toBe(1);

  const vhost = unique('vh');
  const put = api('PUT', `/api/vhosts/${vhost}`);
  const record = await authority.next('put-record');
  expect(record.change).toMatchObject({ record: { kind: 'vhost', name: vhost } });
  expect(core.vhosts.has(vhost)).toBe(false);
  record.release();
  (await authority.next('put-record')).release(); // the creator's permissions on it
  expect((await put).status).toBe(201);
  expect(core.vhosts.has(vhost)).toBe(true);

  const iq = unique('iq');
  const defs = {
    queues: [{ name: iq, vhost: '/', durable: true, auto_delete: false, arguments: {} }],
    bindings: [
      {
        source: 'amq.fanout',
        vhost: '/',
        destination: iq,
        destination_type: 'queue',
        routing_key: '',
        arguments: {},
      },
    ],
  };
  let imported = false;
  const post = api('POST', '/api/definitions', defs).then((r) => {
    imported = true;
    return r;
  });
  (await authority.next('declare-queue')).release();
  const b = await authority.next('bind');
  expect(b.change).toMatchObject({ source: 'amq.fanout', destination: iq });
  expect(imported).toBe(false);
  b.release();
  expect((await post).status).toBeLessThan(300);
  expect(core.getVhost('/')?.queues.get(iq)?.bindings.size).toBe(1);
});

test('permissions wait for their claim; a pattern that is no regular expression is refused before any claim', async () => {
  const before = authority.claims.length;
  const bad = await api('PUT', '/api/permissions/%2F/guest', { configure: '(', write: '.*', read: '.*' });
  expect(bad.status).toBeGreaterThanOrEqual(400);
  expect(authority.claims.length).toBe(before);
  const put = api('PUT', '/api/permissions/%2F/guest', { configure: '.*', write: '.*', read: '.*' });
  const claim = await authority.next('put-record');
  expect(claim.change).toMatchObject({ record: { kind: 'permission', user: 'guest', vhost: '/' } });
  claim.release();
  expect((await put).status).toBeLessThan(300);
});
