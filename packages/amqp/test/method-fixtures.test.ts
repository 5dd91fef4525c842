import { WarrenError } from '@warren/core';
import {
  BASIC_DELIVER,
  BASIC_PUBLISH,
  CONNECTION_START,
  FrameWriter,
  QUEUE_DECLARE,
  decodeMethod,
  decodeMethodFrame,
  methodInfo,
  type Method,
} from '../src';
import { hex, payloadOf } from './helpers';

// connection.start exactly as a RabbitMQ 3.13 node sends it (server-properties trimmed to the usual keys).
const CONNECTION_START_FRAME = hex(`
  010000000001be000a000a0009000001990c6361706162696c6974696573460000008c127075626c69736865725f636f
  6e6669726d7374011a65786368616e67655f65786368616e67655f62696e64696e677374010a62617369632e6e61636b
  740116636f6e73756d65725f63616e63656c5f6e6f74696679740112636f6e6e656374696f6e2e626c6f636b65647401
  1c61757468656e7469636174696f6e5f6661696c7572655f636c6f736574010c636c75737465725f6e616d6553000000
  0d7261626269744077617272656e09636f70797269676874530000003c436f707972696768742028632920323030372d
  323032342042726f6164636f6d20496e6320616e642f6f7220697473207375627369646961726965730b696e666f726d
  6174696f6e53000000394c6963656e73656420756e64657220746865204d504c20322e302e20576562736974653a2068
  747470733a2f2f7261626269746d712e636f6d08706c6174666f726d530000001145726c616e672f4f54502032362e32
  2e350770726f6475637453000000085261626269744d510776657273696f6e5300000006332e31332e370000000e414d
  51504c41494e20504c41494e00000005656e5f5553ce`);

const CONNECTION_START_METHOD: Method = {
  id: CONNECTION_START,
  versionMajor: 0,
  versionMinor: 9,
  serverProperties: {
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      authentication_failure_close: true,
    },
    cluster_name: 'rabbit@warren',
    copyright: 'Copyright (c) 2007-2024 Broadcom Inc and/or its subsidiaries',
    information: 'Licensed under the MPL 2.0. Website: https://rabbitmq.com',
    platform: 'Erlang/OTP 26.2.5',
    product: 'RabbitMQ',
    version: '3.13.7',
  },
  mechanisms: Buffer.from('AMQPLAIN PLAIN'),
  locales: Buffer.from('en_US'),
};

// queue.declare 'orders', durable, with x-queue-type and x-max-length arguments, on channel 1.
const QUEUE_DECLARE_FRAME = hex(`
  0100010000003d0032000a0000066f7264657273020000002b0c782d71756575652d747970655300000007636c617373
  69630c782d6d61782d6c656e67746849000003e8ce`);

const QUEUE_DECLARE_METHOD: Method = {
  id: QUEUE_DECLARE,
  ticket: 0,
  queue: 'orders',
  passive: false,
  durable: true,
  exclusive: false,
  autoDelete: false,
  noWait: false,
  arguments: { 'x-queue-type': 'classic', 'x-max-length': 1000 },
};

// basic.publish to amq.topic with routing key stock.nyse.ibm, mandatory, on channel 1.
const BASIC_PUBLISH_FRAME = hex(
  '01000100000020003c0028000009616d712e746f7069630e73746f636b2e6e7973652e69626d01ce',
);

const BASIC_PUBLISH_METHOD: Method = {
  id: BASIC_PUBLISH,
  ticket: 0,
  exchange: 'amq.topic',
  routingKey: 'stock.nyse.ibm',
  mandatory: true,
  immediate: false,
};

// basic.deliver of delivery-tag 42, redelivered, from the default exchange, on channel 2.
const BASIC_DELIVER_FRAME = hex(
  '01000200000021003c003c0b616d712e637461672d7831000000000000002a0100066f7264657273ce',
);

const BASIC_DELIVER_METHOD: Method = {
  id: BASIC_DELIVER,
  consumerTag: 'amq.ctag-x1',
  deliveryTag: 42,
  redelivered: true,
  exchange: '',
  routingKey: 'orders',
};

const FIXTURES: [string, Buffer, number, Method][] = [
  ['connection.start', CONNECTION_START_FRAME, 0, CONNECTION_START_METHOD],
  ['queue.declare', QUEUE_DECLARE_FRAME, 1, QUEUE_DECLARE_METHOD],
  ['basic.publish', BASIC_PUBLISH_FRAME, 1, BASIC_PUBLISH_METHOD],
  ['basic.deliver', BASIC_DELIVER_FRAME, 2, BASIC_DELIVER_METHOD],
];

describe('method fixtures', () => {
  it.each(FIXTURES)('decodes %s from the bytes a real peer sends', (_name, frame, _channel, method) => {
    expect(decodeMethodFrame(payloadOf(frame))).toEqual(method);
  });

  it.each(FIXTURES)('encodes %s to exactly those bytes', (_name, frame, channel, method) => {
    expect(new FrameWriter(131072).method(channel, method).toString('hex')).toBe(frame.toString('hex'));
  });

  it('packs consecutive bits into one octet, least significant first', () => {
    const frame = new FrameWriter().method(1, {
      ...QUEUE_DECLARE_METHOD,
      passive: true,
      noWait: true,
      arguments: {},
    });
    // ids, ticket, "orders", then the bits octet: passive (1) | durable (2) | no-wait (16).
    expect(frame[7 + 4 + 2 + 7]).toBe(0b10011);
  });

  it('names methods the way RabbitMQ reply texts do', () => {
    expect(methodInfo(50, 10)?.name).toBe('queue.declare');
    expect(methodInfo(40, 51)?.name).toBe('exchange.unbind-ok');
    expect(methodInfo(60, 999)).toBeUndefined();
  });
});

describe('method decoding errors', () => {
  const publishPayload = payloadOf(BASIC_PUBLISH_FRAME);

  it('reports a method payload cut anywhere as FRAME_ERROR, never a RangeError', () => {
    for (let n = 0; n < publishPayload.length; n++) {
      expect(() => decodeMethodFrame(publishPayload.subarray(0, n))).toThrow(
        expect.objectContaining({ code: 'FRAME_ERROR', replyCode: 501 }),
      );
    }
  });

  it('reports trailing octets after the last argument as FRAME_ERROR', () => {
    const longer = Buffer.concat([publishPayload, Buffer.from([0])]);
    expect(() => decodeMethodFrame(longer)).toThrow(expect.objectContaining({ code: 'FRAME_ERROR' }));
  });

  it('reports a short string running past the frame as FRAME_ERROR with a hex snippet', () => {
    const lying = Buffer.from(publishPayload);
    lying[6] = 200; // the exchange name's length
    expect(() => decodeMethodFrame(lying)).toThrow(/cannot decode basic\.publish at <c8 61 6d/);
  });

  it('reports an unknown class or method as COMMAND_INVALID', () => {
    const err = captured(() => decodeMethod(60, 999, Buffer.alloc(0)));
    expect(err).toBeInstanceOf(WarrenError);
    expect(err).toMatchObject({ code: 'COMMAND_INVALID', replyCode: 503 });
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
