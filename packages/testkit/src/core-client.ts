import {
  Broker,
  Message,
  type BrokerOptions,
  type Channel,
  type Connection,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type FieldTable,
  type GetResult,
  type MessageProperties,
} from '@warren/core';

export interface Received {
  body: string;
  tag: number;
  redelivered: boolean;
  routingKey: string;
  exchange: string;
  consumerTag: string;
  properties: MessageProperties;
  delivery: Delivery;
}

export interface Confirm {
  seq: number;
  multiple: boolean;
  ack: boolean;
}

/**
 * An in-process client of the core: one connection with one channel, recording what the broker sends back
 * (deliveries per consumer, returns, confirms, broker-side cancels). What an AMQP channel does, minus the wire.
 */
export class CoreClient {
  readonly returned: { body: string; replyCode: number; routingKey: string }[] = [];
  readonly confirms: Confirm[] = [];
  readonly cancelledByBroker: string[] = [];
  readonly connection: Connection;
  readonly channel: Channel;

  constructor(
    readonly broker: Broker,
    options: { user?: string; password?: string; vhost?: string; loopback?: boolean } = {},
  ) {
    const user = broker.authenticate(
      options.user ?? 'guest',
      options.password ?? 'guest',
      options.loopback ?? true,
    );
    this.connection = broker.connect(user, options.vhost ?? '/', {
      protocol: 'test',
      remoteAddress: '127.0.0.1',
      remotePort: 0,
    });
    this.channel = this.openChannel(1);
  }

  openChannel(id: number): Channel {
    return this.connection.openChannel(id, {
      returned: (msg, replyCode) =>
        this.returned.push({ body: msg.body.toString(), replyCode, routingKey: msg.routingKey }),
      confirmed: (seq, multiple, ack) => this.confirms.push({ seq, multiple, ack }),
    });
  }

  publish(
    exchange: string,
    routingKey: string,
    body: string,
    properties: MessageProperties = {},
    mandatory = false,
    channel = this.channel,
  ): void {
    channel.publish(
      exchange,
      Message.fromProperties(exchange, routingKey, properties, Buffer.from(body)),
      mandatory,
    );
  }

  /** Starts a consumer whose deliveries are appended to the returned array. */
  consume(
    queue: string,
    options: ConsumeOptions = {},
    channel = this.channel,
  ): { consumer: Consumer; received: Received[] } {
    const received: Received[] = [];
    const consumer = channel.consume(queue, options, {
      deliver: (d, c) =>
        received.push({
          body: d.msg.body.toString(),
          tag: d.tag,
          redelivered: d.redelivered,
          routingKey: d.msg.routingKey,
          exchange: d.msg.exchange,
          consumerTag: c.tag,
          properties: d.msg.properties,
          delivery: d,
        }),
      cancelledByBroker: (c) => this.cancelledByBroker.push(c.tag),
    });
    return { consumer, received };
  }

  declareQueue(
    name: string,
    args: FieldTable = {},
    flags: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean } = {},
  ): string {
    return this.channel.queueDeclare(name, {
      durable: flags.durable ?? false,
      exclusive: flags.exclusive ?? false,
      autoDelete: flags.autoDelete ?? false,
      arguments: args,
    }).queue;
  }

  /**
   * basic.get for tests of queues held in memory: the answer is immediate there. Throws if the queue's head is
   * paged out (the channel would answer later).
   */
  get(queue: string, noAck: boolean): GetResult | undefined {
    let answered = false;
    let result: GetResult | undefined;
    this.channel.get(queue, noAck, (r) => {
      answered = true;
      result = r;
    });
    if (!answered) throw new Error(`basic.get on ${queue} waits for a paged-out message; use getAsync`);
    return result;
  }

  /** basic.get that waits for a paged-out head to be read back. */
  getAsync(queue: string, noAck: boolean): Promise<GetResult | undefined> {
    return new Promise((resolve) => this.channel.get(queue, noAck, resolve));
  }

  /** Drains a queue with basic.get (no-ack) and returns the bodies. */
  getAll(queue: string): string[] {
    const out: string[] = [];
    for (;;) {
      const r = this.get(queue, true);
      if (r === undefined) return out;
      out.push(r.delivery.msg.body.toString());
    }
  }

  close(): void {
    this.connection.close();
  }
}

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const broker = new Broker(options);
  await broker.start();
  return broker;
}
