/**
 * An AMQP session with no socket: AmqpConnection over the testkit's in-memory Transport, on a real core. What the
 * server writes is parsed back with the codec, so these tests read like a client's view of the wire.
 */
import { Broker, silentLogger } from '@warren/core';
import { MemoryTransport, waitFor } from '@warren/testkit';
import {
  AmqpConnection,
  BASIC_CONSUME,
  BASIC_CONSUME_OK,
  BASIC_DELIVER,
  BASIC_PUBLISH,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  CONNECTION_CLOSE,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  FrameReader,
  FrameWriter,
  PROTOCOL_HEADER,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  decodeContentHeader,
  decodeMethodFrame,
  decodeProperties,
  type Method,
} from '../src';

type Seen = { method: Method } | { header: Buffer } | { body: string };

/** One client end: frames out through the writer, everything the server says parsed into `seen`. */
class InProcessClient {
  readonly transport = new MemoryTransport('amqp');
  readonly connection: AmqpConnection;
  readonly seen: Seen[] = [];
  private readonly writer = new FrameWriter(131072);
  private readonly reader = new FrameReader(
    {
      onProtocolHeader: () => {},
      onMethod: (_ch, payload) => this.seen.push({ method: decodeMethodFrame(payload) }),
      onContentHeader: (_ch, payload) =>
        this.seen.push({ header: Buffer.from(decodeContentHeader(payload).properties) }),
      onBody: (_ch, payload) => this.seen.push({ body: payload.toString() }),
      onHeartbeat: () => {},
    },
    { expectProtocolHeader: false, frameMax: 131072 },
  );

  constructor(broker: Broker) {
    this.connection = new AmqpConnection(this.transport, {
      broker,
      logger: silentLogger,
      limits: broker.limits,
      version: 'test',
      onClosed: () => {},
    });
    this.transport.attach(this.connection);
    this.transport.onWrite = (chunk) => this.reader.push(chunk);
  }

  send(channel: number, m: Method): void {
    this.transport.deliver(this.writer.method(channel, m));
  }

  methods(id: number): Method[] {
    return this.seen.flatMap((s) => ('method' in s && s.method.id === id ? [s.method] : []));
  }

  async next(id: number): Promise<Method> {
    await waitFor(() => this.methods(id).length > 0, 2000, `method ${id.toString(16)}`);
    return this.methods(id)[0] as Method;
  }
}

let broker: Broker;
beforeEach(async () => {
  broker = new Broker();
  await broker.start();
});
afterEach(() => broker.close());

async function opened(): Promise<InProcessClient> {
  const c = new InProcessClient(broker);
  c.transport.deliver(PROTOCOL_HEADER);
  await c.next(CONNECTION_START);
  c.send(0, {
    id: CONNECTION_START_OK,
    clientProperties: {},
    mechanism: 'PLAIN',
    response: Buffer.from('\0guest\0guest'),
    locale: 'en_US',
  });
  await c.next(CONNECTION_TUNE);
  c.send(0, { id: CONNECTION_TUNE_OK, channelMax: 2047, frameMax: 131072, heartbeat: 0 });
  c.send(0, { id: CONNECTION_OPEN, virtualHost: '/', capabilities: '', insist: false });
  await c.next(CONNECTION_OPEN_OK);
  c.send(1, { id: CHANNEL_OPEN, outOfBand: '' });
  await c.next(CHANNEL_OPEN_OK);
  return c;
}

describe('an AMQP session over an in-memory transport', () => {
  test('handshake, declare, consume and publish, as over a socket', async () => {
    const c = await opened();
    c.send(1, {
      id: QUEUE_DECLARE,
      ticket: 0,
      queue: 'in-process',
      passive: false,
      durable: false,
      exclusive: false,
      autoDelete: false,
      noWait: false,
      arguments: {},
    });
    expect(await c.next(QUEUE_DECLARE_OK)).toMatchObject({ queue: 'in-process', messageCount: 0 });
    c.send(1, {
      id: BASIC_CONSUME,
      ticket: 0,
      queue: 'in-process',
      consumerTag: 'c1',
      noLocal: false,
      noAck: true,
      exclusive: false,
      noWait: false,
      arguments: {},
    });
    await c.next(BASIC_CONSUME_OK);
    const frames: Buffer[] = [];
    const writer = new FrameWriter(131072);
    writer.message(
      1,
      {
        id: BASIC_PUBLISH,
        ticket: 0,
        exchange: '',
        routingKey: 'in-process',
        mandatory: false,
        immediate: false,
      },
      { contentType: 'text/plain', headers: { n: 1 } },
      Buffer.from('no socket needed'),
      frames,
    );
    c.transport.deliver(Buffer.concat(frames));
    expect(await c.next(BASIC_DELIVER)).toMatchObject({ consumerTag: 'c1', routingKey: 'in-process' });
    const header = c.seen.find((s): s is { header: Buffer } => 'header' in s);
    expect(decodeProperties(header?.header ?? Buffer.alloc(2))).toEqual({
      contentType: 'text/plain',
      headers: { n: 1 },
    });
    expect(c.seen.filter((s) => 'body' in s)).toEqual([{ body: 'no socket needed' }]);
    c.transport.close();
    expect(broker.connections.size).toBe(0);
  });

  test('a transport that vanishes mid-handshake leaves nothing behind', async () => {
    const c = new InProcessClient(broker);
    c.transport.deliver(PROTOCOL_HEADER);
    await c.next(CONNECTION_START);
    c.transport.close();
    expect(c.methods(CONNECTION_CLOSE)).toEqual([]);
    expect(broker.connections.size).toBe(0);
  });
});
