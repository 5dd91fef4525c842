import amqp, { type ChannelModel } from 'amqplib';
import { WarrenError, type Broker, type Connection } from '@warren/core';
import { BASIC_QOS, BASIC_QOS_OK, CHANNEL_OPEN, CHANNEL_OPEN_OK, QUEUE_DECLARE } from '@warren/amqp';
import { HeldAuthority } from '../support/held-authority';
import { RawAmqp } from '../support/raw-amqp';
import { startWarren, type TestBroker } from '../support/warren';

// Topology claims over AMQP (issue 16's seam): a channel whose declare or bind the cluster has not yet
// confirmed holds back its later frames; its connection's other channels carry on.

const MAX_PARKED = 64 * 1024;

let broker: TestBroker;
let core: Broker;
let authority: HeldAuthority;
let conn: ChannelModel;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;
const url = (): string => `amqp://guest:guest@${broker.host}:${broker.amqpPort}`;

beforeAll(async () => {
  broker = await startWarren((config) => {
    config.limits.maxParkedBytes = MAX_PARKED;
  });
  core = (broker.server as NonNullable<TestBroker['server']>).broker;
  authority = HeldAuthority.install(core);
});
afterAll(async () => {
  await broker.close();
});
beforeEach(async () => {
  authority.hold = true;
  conn = await amqp.connect(url());
});
afterEach(async () => {
  authority.releaseAll();
  await conn.close().catch(() => {});
});

/** A queue made without holding (setup, not the subject of the test). */
async function existingQueue(name: string): Promise<void> {
  authority.hold = false;
  const ch = await conn.createChannel();
  await ch.assertQueue(name, { durable: false });
  await ch.close();
  authority.hold = true;
}

const depth = (name: string): number => core.getVhost('/')?.queues.get(name)?.messageCount ?? -1;

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a held queue.declare parks its channel: a publish after it is routed only once the claim is released', async () => {
  const other = unique('other');
  await existingQueue(other);
  const q = unique('held');
  const ch = await conn.createChannel();
  const side = await conn.createChannel();
  const declared = ch.assertQueue(q, { durable: true });
  ch.sendToQueue(q, Buffer.from('after the declare'));
  const claim = await authority.next('declare-queue');
  expect(claim.change).toMatchObject({
    kind: 'declare-queue',
    vhost: '/',
    name: q,
    durable: true,
    passive: false,
  });

  // The same connection's other channel flows meanwhile; its frames come after the parked publish on the
  // socket, so by its answer the publish has arrived and waits.
  side.sendToQueue(other, Buffer.from('side'));
  const got = await side.get(other, { noAck: true });
  expect(got && got.content.toString()).toBe('side');
  expect(core.getVhost('/')?.queues.has(q)).toBe(false);

  claim.release();
  const ok = await declared;
  expect(ok.queue).toBe(q);
  await until(() => depth(q) === 1, 'the parked publish to be routed');
  const m = await ch.get(q, { noAck: true });
  expect(m && m.content.toString()).toBe('after the declare');
});

test('a binding claimed on a channel routes the publish sent right after bind-ok', async () => {
  const q = unique('bound');
  const x = unique('x');
  authority.hold = false;
  const ch = await conn.createChannel();
  await ch.assertExchange(x, 'direct', { durable: false });
  await ch.assertQueue(q, { durable: false });
  authority.hold = true;
  const bound = ch.bindQueue(q, x, 'k');
  ch.publish(x, 'k', Buffer.from('through the binding'));
  const claim = await authority.next('bind');
  expect(claim.change).toMatchObject({
    kind: 'bind',
    source: x,
    destination: q,
    destinationKind: 'queue',
    routingKey: 'k',
  });
  claim.release();
  await bound;
  await until(() => depth(q) === 1, 'the publish to be routed through the new binding');
});

test('a rejected claim closes the channel with 406 and drops the frames parked behind it', async () => {
  const other = unique('other');
  await existingQueue(other);
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
  const declared = ch.assertQueue(unique('refused'), { durable: true }).then(
    () => undefined,
    (e: Error & { code?: number }) => e,
  );
  ch.sendToQueue(other, Buffer.from('must not arrive'));
  const claim = await authority.next('declare-queue');
  // The publish has arrived (a later frame on the same socket was answered) before the claim is refused.
  const side = await conn.createChannel();
  expect(await side.get(other, { noAck: true })).toBe(false);
  claim.reject(new WarrenError('PRECONDITION_FAILED', "inequivalent arg 'durable' for queue in vhost '/'"));
  const err = await declared;
  expect(err?.code).toBe(406);
  expect(err?.message).toContain('PRECONDITION_FAILED');
  await closed;
  expect(depth(other)).toBe(0);
  // The connection lives on.
  side.sendToQueue(other, Buffer.from('still fine'));
  const got = await side.get(other, { noAck: true });
  expect(got && got.content.toString()).toBe('still fine');
});

test('local checks run before any claim: a reserved name is refused at once, with nothing claimed', async () => {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const before = authority.claims.length;
  await expect(ch.assertQueue('amq.mine')).rejects.toMatchObject({ code: 403 });
  expect(authority.claims.length).toBe(before);
});

test('parking past maxParkedBytes stops reading the connection until the claim settles, then everything arrives', async () => {
  const q = unique('flood');
  const ch = await conn.createChannel();
  const declared = ch.assertQueue(q, { durable: false });
  const body = Buffer.alloc(16 * 1024, 0x61);
  const count = 64; // 1 MiB behind a 64 KiB bound
  for (let i = 0; i < count; i++) ch.sendToQueue(q, body);
  const claim = await authority.next('declare-queue');
  const server = newestConnection();
  await until(() => server.stats.recvOct > MAX_PARKED, 'the parked bytes to pass the bound');
  // Paused: whatever the socket buffers hold, the broker reads no more than about one chunk past the bound.
  await new Promise((r) => setTimeout(r, 200));
  expect(server.stats.recvOct).toBeLessThan(count * body.length);
  claim.release();
  await declared;
  await until(() => depth(q) === count, 'every parked and unread publish to arrive');
});

function newestConnection(): Connection {
  let newest: Connection | undefined;
  for (const c of core.connections.values()) if (newest === undefined || c.id > newest.id) newest = c;
  if (newest === undefined) throw new Error('no connection');
  return newest;
}

test('a connection that closes while its channel is parked drops the parked frames; the late claim leaves no queue', async () => {
  const q = unique('gone');
  const other = unique('other');
  await existingQueue(other);
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  void ch.assertQueue(q, { exclusive: true }).catch(() => {});
  ch.sendToQueue(other, Buffer.from('never'));
  const claim = await authority.next('declare-queue');
  expect(claim.change).toMatchObject({ exclusive: true, owner: { connection: newestConnection().id } });
  const id = newestConnection().id;
  await conn.close();
  await until(() => !core.connections.has(id), 'the broker to forget the connection');
  claim.release();
  await until(() => claim.settled, 'the claim to settle');
  await new Promise((r) => setImmediate(r));
  expect(core.getVhost('/')?.queues.has(q)).toBe(false);
  expect(depth(other)).toBe(0);
});

test('a nowait queue.declare parks too (for the order) and sends no declare-ok', async () => {
  const q = unique('nowait');
  const raw = await RawAmqp.open(broker.amqpPort);
  try {
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, {
      id: QUEUE_DECLARE,
      ticket: 0,
      queue: q,
      passive: false,
      durable: false,
      exclusive: false,
      autoDelete: false,
      noWait: true,
      arguments: {},
    });
    raw.send(1, { id: BASIC_QOS, prefetchSize: 0, prefetchCount: 5, global: false });
    const claim = await authority.next('declare-queue');
    // Channel 2's answer comes after channel 1's basic.qos was read: it waits behind the claim.
    raw.send(2, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(2, CHANNEL_OPEN_OK);
    const on1 = (): number[] =>
      raw.frames.flatMap((f) => (f.type === 'method' && f.channel === 1 ? [f.method.id] : []));
    expect(on1()).toEqual([CHANNEL_OPEN_OK]);
    claim.release();
    await raw.method(1, BASIC_QOS_OK);
    expect(on1()).toEqual([CHANNEL_OPEN_OK, BASIC_QOS_OK]);
    expect(core.getVhost('/')?.queues.has(q)).toBe(true);
  } finally {
    raw.destroy();
  }
});
