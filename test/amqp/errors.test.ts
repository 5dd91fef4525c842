import amqp, { type Channel, type ChannelModel } from 'amqplib';
import {
  BASIC_PUBLISH,
  BASIC_QOS,
  CHANNEL_CLOSE,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  TX_COMMIT,
  TX_COMMIT_OK,
  TX_SELECT,
  TX_SELECT_OK,
  CHANNEL_FLOW,
  CHANNEL_FLOW_OK,
  PROTOCOL_HEADER,
} from '@warren/amqp';
import { RawAmqp } from '../support/raw-amqp';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

let broker: TestBroker;
const url = (user = 'guest', pass = 'guest', vhost = ''): string =>
  `amqp://${user}:${pass}@${broker.host}:${broker.amqpPort}/${encodeURIComponent(vhost)}`;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;

beforeAll(async () => {
  broker = await startWarren((config) => {
    config.limits.maxMessageSize = 64 * 1024;
  });
});
afterAll(async () => {
  await broker.close();
});

/** After every failure: a fresh client can still publish and consume, so nobody else was harmed. */
async function othersStillWork(): Promise<void> {
  const c = await amqp.connect(url());
  const ch = await c.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from('still here'));
  const got = await new Promise<string>((resolve) =>
    ch.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }),
  );
  expect(got).toBe('still here');
  await c.close();
}

/** Runs `op` on a fresh channel and returns the error that closed the channel. */
async function channelError(
  conn: ChannelModel,
  op: (ch: Channel) => Promise<unknown>,
): Promise<Error & { code?: number }> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
  const err = await op(ch).then(
    () => undefined,
    (e: Error) => e,
  );
  await closed;
  if (err === undefined) throw new Error('expected the channel to fail');
  return err;
}

describe('login and vhost errors', () => {
  test('a wrong password is refused with 403 ACCESS_REFUSED', async () => {
    await expect(amqp.connect(url('guest', 'wrong'))).rejects.toThrow(/ACCESS_REFUSED|403/);
    await othersStillWork();
  });

  test('an unknown vhost is 530 NOT_ALLOWED', async () => {
    await expect(amqp.connect(url('guest', 'guest', 'no-such-vhost'))).rejects.toThrow();
    const raw = await RawAmqp.open(broker.amqpPort, { vhost: 'no-such-vhost', awaitOpenOk: false });
    const close = await raw.connectionClose();
    expect(close).toMatchObject({
      replyCode: 530,
      replyText: expect.stringMatching(/^NOT_ALLOWED - vhost no-such-vhost not found/),
    });
  });
});

describe('channel errors close the channel, not the connection', () => {
  let conn: ChannelModel;
  beforeEach(async () => {
    conn = await amqp.connect(url());
    conn.on('error', () => {});
  });
  afterEach(async () => {
    await conn.close().catch(() => {});
  });

  test('passive declare of a missing queue: 404 NOT_FOUND', async () => {
    const err = await channelError(conn, (ch) => ch.checkQueue('no-such-queue'));
    expect(err.message).toMatch(/404.*NOT_FOUND - no queue 'no-such-queue' in vhost '\/'/);
    const ch = await conn.createChannel();
    await expect(ch.assertQueue('', { exclusive: true })).resolves.toBeDefined();
  });

  test('publishing to a missing exchange: 404 NOT_FOUND on the channel', async () => {
    const err = await channelError(conn, async (ch) => {
      ch.publish('no-such-exchange', 'k', Buffer.from('x'));
      await ch.assertQueue('', { exclusive: true }); // a round trip to see the close
    });
    expect(err.message).toMatch(/NOT_FOUND - no exchange 'no-such-exchange' in vhost '\/'/);
  });

  test("another connection's exclusive queue: 405 RESOURCE_LOCKED", async () => {
    const ownerConnection = await amqp.connect(url());
    const owner = await ownerConnection.createChannel();
    const { queue } = await owner.assertQueue('', { exclusive: true });
    const err = await channelError(conn, (ch) => ch.consume(queue, () => {}));
    expect(err.message).toMatch(/405.*RESOURCE_LOCKED - cannot obtain exclusive access to locked queue/);
    await ownerConnection.close();
  });

  test('re-declaring with different durability: 406 PRECONDITION_FAILED with the inequivalent arg', async () => {
    const q = unique('durable');
    const ch = await conn.createChannel();
    await ch.assertQueue(q, { durable: true });
    const err = await channelError(conn, (c) => c.assertQueue(q, { durable: false }));
    expect(err.message).toMatch(
      new RegExp(
        `406.*inequivalent arg 'durable' for queue '${q.replace(/\./g, '\\.')}' in vhost '/': received 'false' but current is 'true'`,
      ),
    );
    await ch.deleteQueue(q);
  });

  test('acking an unknown delivery tag: 406 PRECONDITION_FAILED', async () => {
    const err = await channelError(conn, async (ch) => {
      ch.ack({ fields: { deliveryTag: 99 } } as amqp.Message);
      await ch.assertQueue('', { exclusive: true });
    });
    expect(err.message).toMatch(/PRECONDITION_FAILED - unknown delivery tag 99/);
  });

  test('a reserved amq. name: 403 ACCESS_REFUSED', async () => {
    const err = await channelError(conn, (ch) => ch.assertQueue('amq.mine'));
    expect(err.message).toMatch(
      /403.*ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq\.\*'/,
    );
  });

  (againstExternalBroker ? test.skip : test)(
    "an action outside the user's permissions: 403 ACCESS_REFUSED",
    async () => {
      const core = broker.server!.broker;
      core.users.add('limited', 'pw');
      core.users.setPermissions('limited', '/', { configure: '^limited\\.', write: '.*', read: '.*' });
      const c = await amqp.connect(url('limited', 'pw'));
      c.on('error', () => {});
      const err = await channelError(c, (ch) => ch.assertQueue('not-mine'));
      expect(err.message).toMatch(
        /ACCESS_REFUSED - access to queue 'not-mine' in vhost '\/' refused for user 'limited'/,
      );
      await c.close();
    },
  );

  test('a message over the maximum size: 406 PRECONDITION_FAILED', async () => {
    if (againstExternalBroker) return; // RabbitMQ's default limit is 128 MiB
    const err = await channelError(conn, async (ch) => {
      ch.sendToQueue('anything', Buffer.alloc(100 * 1024));
      await ch.assertQueue('', { exclusive: true });
    });
    expect(err.message).toMatch(
      /PRECONDITION_FAILED - message size 102400 is larger than configured max size 65536/,
    );
    await othersStillWork();
  });
});

describe('connection errors close the connection', () => {
  test('an unknown exchange type: 503 COMMAND_INVALID', async () => {
    const conn = await amqp.connect(url());
    const closed = new Promise<Error>((resolve) => conn.on('error', resolve));
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.assertExchange(unique('x'), 'no-such-type').catch(() => {});
    expect((await closed).message).toMatch(/503.*COMMAND_INVALID - unknown exchange type 'no-such-type'/);
    await othersStillWork();
  });

  test('a wrong protocol header gets the 0-9-1 header back and the socket closed', async () => {
    const raw = await RawAmqp.connect(broker.amqpPort);
    raw.write(Buffer.from('AMQP\x00\x00\x08\x00', 'latin1'));
    await raw.waitClosed();
    expect(raw.received.subarray(0, 8)).toEqual(PROTOCOL_HEADER);
  });

  test('garbage instead of a protocol header gets the same answer', async () => {
    const raw = await RawAmqp.connect(broker.amqpPort);
    raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await raw.waitClosed();
    expect(raw.received.subarray(0, 8)).toEqual(PROTOCOL_HEADER);
    await othersStillWork();
  });

  test('a bad frame-end octet: 501 FRAME_ERROR', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.frame(1, 1, Buffer.from([0, 20, 0, 10, 0]), 0x00);
    const close = await raw.connectionClose();
    expect(close.replyCode).toBe(501);
    await othersStillWork();
  });

  test('a frame larger than the negotiated frame-max: 501 FRAME_ERROR', async () => {
    const raw = await RawAmqp.open(broker.amqpPort, { frameMax: 4096 });
    raw.frame(3, 1, Buffer.alloc(10000));
    expect((await raw.connectionClose()).replyCode).toBe(501);
  });

  test('a method on a channel that was never opened: 504 CHANNEL_ERROR', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(7, { id: BASIC_QOS, prefetchSize: 0, prefetchCount: 1, global: false });
    expect((await raw.connectionClose()).replyCode).toBe(504);
  });

  test('a content header with no publish before it: 505 UNEXPECTED_FRAME', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    const header = Buffer.alloc(14);
    header.writeUInt16BE(60, 0);
    raw.frame(2, 1, header);
    expect((await raw.connectionClose()).replyCode).toBe(505);
  });

  test('a method in the middle of a message: 505 UNEXPECTED_FRAME', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, {
      id: BASIC_PUBLISH,
      ticket: 0,
      exchange: '',
      routingKey: 'q',
      mandatory: false,
      immediate: false,
    });
    raw.send(1, { id: BASIC_QOS, prefetchSize: 0, prefetchCount: 1, global: false });
    const close = await raw.connectionClose();
    expect(close.replyCode).toBe(505);
    expect(close.replyText).toMatch(/UNEXPECTED_FRAME - expected content header for class 60/);
    await othersStillWork();
  });

  test('a byte-based prefetch: 540 NOT_IMPLEMENTED', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, { id: BASIC_QOS, prefetchSize: 1000, prefetchCount: 0, global: false });
    expect((await raw.connectionClose()).replyCode).toBe(540);
  });

  test('opening the same channel twice: 504 CHANNEL_ERROR', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    expect((await raw.connectionClose()).replyCode).toBe(504);
  });

  test('random bytes after the handshake never crash the broker', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = await RawAmqp.open(broker.amqpPort);
      const junk = Buffer.alloc(64 + i * 13);
      for (let j = 0; j < junk.length; j++) junk[j] = (j * 7919 + i * 104729) & 0xff;
      raw.write(junk);
      await raw.until(
        () => raw.closed || raw.frames.some((f) => f.type === 'method' && f.channel === 0),
        5000,
        'a reaction',
      );
      raw.destroy();
    }
    await othersStillWork();
  });
});

describe('heartbeats and other raw-protocol behaviour', () => {
  test('the server sends heartbeats, and drops a client silent for two intervals', async () => {
    const raw = await RawAmqp.open(broker.amqpPort, { heartbeat: 1 });
    await raw.until(
      () => raw.frames.some((f) => f.type === 'heartbeat'),
      5000,
      'a heartbeat from the server',
    );
    await raw.waitClosed(6000);
  });

  test('a client that keeps sending heartbeats stays connected', async () => {
    const raw = await RawAmqp.open(broker.amqpPort, { heartbeat: 1 });
    const beat = setInterval(() => raw.frame(8, 0, Buffer.alloc(0)), 300);
    const started = Date.now();
    await raw.until(() => raw.closed || Date.now() - started > 3500, 5000, 'time to pass');
    clearInterval(beat);
    expect(raw.closed).toBe(false);
    raw.destroy();
  });

  test('tx.select, commit and channel.flow active=true over the wire', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, { id: TX_SELECT });
    await raw.method(1, TX_SELECT_OK);
    raw.send(1, { id: TX_COMMIT });
    await raw.method(1, TX_COMMIT_OK);
    raw.send(1, { id: CHANNEL_FLOW, active: true });
    await raw.method(1, CHANNEL_FLOW_OK);
    expect(raw.frames.some((f) => f.type === 'method' && f.method.id === CHANNEL_CLOSE)).toBe(false);
    raw.destroy();
  });

  test('channel.flow active=false from a client is 540 NOT_IMPLEMENTED, as in RabbitMQ 3.x', async () => {
    const raw = await RawAmqp.open(broker.amqpPort);
    raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
    await raw.method(1, CHANNEL_OPEN_OK);
    raw.send(1, { id: CHANNEL_FLOW, active: false });
    expect(await raw.connectionClose()).toMatchObject({
      replyCode: 540,
      replyText: expect.stringMatching(/^NOT_IMPLEMENTED/),
    });
  });
});
