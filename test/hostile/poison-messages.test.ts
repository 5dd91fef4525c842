/**
 * What one hostile or broken client sends must not stop the broker, poison a queue, or reach other clients:
 * poison publishes over real sockets, each followed by good traffic that must all arrive over AMQP, STOMP and
 * STOMP over WebSocket, while a client opened before the poison carries on untouched.
 */
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { BASIC_PUBLISH, CHANNEL_OPEN, CHANNEL_OPEN_OK, FRAME_BODY, FRAME_HEADER } from '@warren/amqp';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { RawWsClient } from '../stomp-ws/support';
import { RawAmqp } from '../support/raw-amqp';
import { againstExternalBroker, startWarren, type TestBroker } from '../support/warren';

let broker: TestBroker;
let n = 0;
const unique = (base: string): string => `${base}.${process.pid}.${++n}`;

beforeAll(async () => {
  broker = await startWarren();
});
afterAll(() => broker.close());

/** Property flags bit 13: a headers table follows (AMQP 0-9-1 section 4.2.6.1). */
const HEADERS_FLAG = 1 << 13;

/** A content header payload (class 60) whose property list is exactly `propertyList` under `flags`. */
function contentHeader(bodySize: number, flags: number, propertyList: Buffer): Buffer {
  const head = Buffer.alloc(14);
  head.writeUInt16BE(60, 0);
  head.writeUInt16BE(0, 2);
  head.writeBigUInt64BE(BigInt(bodySize), 4);
  head.writeUInt16BE(flags, 12);
  return Buffer.concat([head, propertyList]);
}

/** A long-string-prefixed table holding one field `name` of raw type `type` with `value` bytes. */
function table(name: string, type: string, value: Buffer): Buffer {
  const key = Buffer.from(name);
  const pair = Buffer.concat([Buffer.from([key.length]), key, Buffer.from(type, 'latin1'), value]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(pair.length);
  return Buffer.concat([len, pair]);
}

/** headers = { outer: { inner: <a value of type 'Z', which no AMQP dialect defines> } } */
function unknownTypeHeaders(): Buffer {
  return table('outer', 'F', table('inner', 'Z', Buffer.from('?')));
}

/** headers nested `depth` tables deep. */
function deepHeaders(depth: number): Buffer {
  let t = table('leaf', 't', Buffer.from([1]));
  for (let i = 0; i < depth; i++) t = table(`l${i}`, 'F', t);
  return t;
}

/** Publishes one message with the given raw headers table from a raw client; returns the client. */
async function publishRaw(exchange: string, headersTable: Buffer, body = 'poison'): Promise<RawAmqp> {
  const raw = await RawAmqp.open(broker.amqpPort);
  raw.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
  await raw.method(1, CHANNEL_OPEN_OK);
  raw.send(1, { id: BASIC_PUBLISH, ticket: 0, exchange, routingKey: '', mandatory: false, immediate: false });
  raw.frame(FRAME_HEADER, 1, contentHeader(body.length, HEADERS_FLAG, headersTable));
  raw.frame(FRAME_BODY, 1, Buffer.from(body));
  return raw;
}

interface Audience {
  exchange: string;
  amqpGot: string[];
  stompGot: string[];
  wsGot: string[];
  /** The AMQP consumer's connection, opened before any poison. */
  consumerConn: ChannelModel;
  consumerClosed: () => boolean;
  stomp: RawClient;
  ws: RawWsClient;
  publisher: ChannelModel;
  pub: ConfirmChannel;
  close(): Promise<void>;
}

/** A fanout exchange with one queue each for an AMQP, a STOMP and a WebSocket consumer, all connected now. */
async function audience(): Promise<Audience> {
  const exchange = unique('poison-fanout');
  const consumerConn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
  let closed = false;
  consumerConn.on('close', () => (closed = true));
  consumerConn.on('error', () => {});
  const ch = await consumerConn.createChannel();
  await ch.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
  const queues = { amqp: unique('q-amqp'), stomp: unique('q-stomp'), ws: unique('q-ws') };
  for (const q of Object.values(queues)) {
    await ch.assertQueue(q, { durable: false });
    await ch.bindQueue(q, exchange, '');
  }
  const amqpGot: string[] = [];
  await ch.consume(queues.amqp, (m: ConsumeMessage | null) => m && amqpGot.push(m.content.toString()), {
    noAck: true,
  });

  const stomp = await RawClient.open(broker.stompPort);
  stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  await stomp.next('CONNECTED');
  stomp.frame('SUBSCRIBE', { id: 's1', destination: `/amq/queue/${queues.stomp}`, receipt: 'sub' });
  await stomp.next('RECEIPT');

  const ws = await RawWsClient.connected(`ws://${broker.host}:${broker.wsPort}/ws`);
  ws.frame('SUBSCRIBE', { id: 'w1', destination: `/amq/queue/${queues.ws}`, receipt: 'sub' });
  await ws.next('RECEIPT');

  const publisher = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
  const pub = await publisher.createConfirmChannel();
  const bodies = (c: { frames: { command: string; body: Buffer }[] }): string[] =>
    c.frames.filter((f) => f.command === 'MESSAGE').map((f) => f.body.toString());
  return {
    exchange,
    amqpGot,
    get stompGot() {
      return bodies(stomp);
    },
    get wsGot() {
      return bodies(ws);
    },
    consumerConn,
    consumerClosed: () => closed,
    stomp,
    ws,
    publisher,
    pub,
    async close() {
      stomp.close();
      ws.close();
      await publisher.close().catch(() => {});
      await consumerConn.close().catch(() => {});
    },
  };
}

/** Publishes `count` good messages with confirms and waits until every consumer has all of them. */
async function goodTrafficArrives(a: Audience, count: number): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = `good-${i}`;
    sent.push(body);
    a.pub.publish(a.exchange, '', Buffer.from(body), { headers: { n: i, nested: { ok: true } } });
  }
  await a.pub.waitForConfirms();
  await waitFor(
    () => a.amqpGot.length >= count && a.stompGot.length >= count && a.wsGot.length >= count,
    10000,
    `${count} good messages at each consumer`,
  );
  return sent;
}

const maybe = againstExternalBroker ? describe.skip : describe;

maybe('poison publishes are refused at the door', () => {
  test('headers with an unknown field type close only the publisher (502) and reach no queue', async () => {
    const a = await audience();
    try {
      const raw = await publishRaw(a.exchange, unknownTypeHeaders());
      const close = await raw.connectionClose();
      expect(close.replyCode).toBe(502);
      expect(close.replyText).toMatch(/unknown field type 'Z'/);
      raw.destroy();

      const sent = await goodTrafficArrives(a, 20);
      expect(a.amqpGot).toEqual(sent);
      expect(a.stompGot).toEqual(sent);
      expect(a.wsGot).toEqual(sent);
      expect(a.consumerClosed()).toBe(false);
      expect(a.stomp.closed).toBe(false);
      expect(a.ws.closeCode).toBeUndefined();
      expect(a.stomp.frames.some((f) => f.command === 'ERROR')).toBe(false);
    } finally {
      await a.close();
    }
  });

  test('headers nested deeper than the table depth bound are refused the same way', async () => {
    const a = await audience();
    try {
      const raw = await publishRaw(a.exchange, deepHeaders(200));
      const close = await raw.connectionClose();
      expect(close.replyCode).toBe(502);
      expect(close.replyText).toMatch(/nested deeper than 64/);
      raw.destroy();
      const sent = await goodTrafficArrives(a, 5);
      expect(a.stompGot).toEqual(sent);
      expect(a.wsGot).toEqual(sent);
      expect(a.consumerClosed()).toBe(false);
    } finally {
      await a.close();
    }
  });

  test('a table whose length runs past its parent is a frame error (501), and nothing is enqueued', async () => {
    const a = await audience();
    try {
      const xx = Buffer.from([0, 0, 0, 2, 0x78, 0x78]); // long string "xx"
      const bad = table('outer', 'F', table('inner', 'S', xx));
      // Claim the inner long string is 1000 octets long: it runs past the table that holds it.
      bad.writeUInt32BE(1000, bad.length - 6);
      const raw = await publishRaw(a.exchange, bad);
      const close = await raw.connectionClose();
      expect(close.replyText).toMatch(/cannot decode field table/);
      expect(close.replyCode).toBe(501);
      raw.destroy();
      const sent = await goodTrafficArrives(a, 5);
      expect(a.amqpGot).toEqual(sent);
      expect(a.stompGot).toEqual(sent);
    } finally {
      await a.close();
    }
  });

  test('a hundred poison publishers in a row leave the broker serving everyone else', async () => {
    const a = await audience();
    try {
      const raws = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          publishRaw(a.exchange, i % 2 === 0 ? unknownTypeHeaders() : deepHeaders(100)),
        ),
      );
      for (const raw of raws) expect((await raw.connectionClose()).replyCode).toBe(502);
      for (const raw of raws) raw.destroy();
      const sent = await goodTrafficArrives(a, 50);
      expect(a.amqpGot).toEqual(sent);
      expect(a.stompGot).toEqual(sent);
      expect(a.wsGot).toEqual(sent);
    } finally {
      await a.close();
    }
  });
});

maybe('a message one protocol cannot carry', () => {
  test('STOMP headers too big for an AMQP frame are dead-lettered for the AMQP subscriber, who carries on', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@${broker.host}:${broker.amqpPort}`);
    let closed = false;
    conn.on('close', () => (closed = true));
    const ch = await conn.createChannel();
    const dlx = unique('dlx');
    await ch.assertExchange(dlx, 'fanout', { durable: false });
    const dlq = unique('dlq');
    await ch.assertQueue(dlq, { durable: false });
    await ch.bindQueue(dlq, dlx, '');
    const q = unique('topic-sub');
    await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx, deadLetterRoutingKey: 'too-long' });
    await ch.bindQueue(q, 'amq.topic', `${q}.#`);
    const got: string[] = [];
    await ch.consume(q, (m) => m && got.push(m.content.toString()), { noAck: true });
    try {
      const s = await RawClient.open(broker.stompPort);
      s.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      await s.next('CONNECTED');
      // Three 60 KiB headers: fine for STOMP, but AMQP's content header must fit one 128 KiB frame.
      const big = 'h'.repeat(60 * 1024);
      s.frame(
        'SEND',
        { destination: `/topic/${q}.big`, receipt: 'r1', 'x-a': big, 'x-b': big, 'x-c': big },
        'too big for one AMQP frame',
      );
      s.frame('SEND', { destination: `/topic/${q}.short`, receipt: 'r2' }, 'fits');
      await s.next('RECEIPT', 2);
      await waitFor(() => got.length >= 1, 5000, 'the message that fits');
      expect(got).toEqual(['fits']);
      const dead = await ch.checkQueue(dlq);
      expect(dead.messageCount).toBe(1);
      expect(closed).toBe(false);
      expect(broker.server?.broker.counters.untranslatable).toBeGreaterThanOrEqual(1);
      s.close();
    } finally {
      await conn.close().catch(() => {});
    }
  });
});
