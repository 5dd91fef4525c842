import fc from 'fast-check';
import {
  BASIC_DELIVER,
  FrameWriter,
  HEARTBEAT_FRAME,
  INLINE_BODY_MAX,
  METHODS,
  decodeContentHeader,
  decodeMethodFrame,
  decodeProperties,
  type AmqpType,
  type Method,
} from '../src';
import { fieldTable, messageProperties, shortstr } from './arbitraries';
import { readAll } from './helpers';

const camel = (s: string): string =>
  s === 'nowait' ? 'noWait' : s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const ARBITRARY: Record<AmqpType, fc.Arbitrary<unknown>> = {
  bit: fc.boolean(),
  octet: fc.integer({ min: 0, max: 255 }),
  short: fc.integer({ min: 0, max: 0xffff }),
  long: fc.nat({ max: 0xffffffff }),
  longlong: fc.maxSafeNat(),
  timestamp: fc.maxSafeNat(),
  shortstr,
  longstr: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  table: fieldTable,
};

/** Any method of the table with arbitrary arguments. */
const anyMethod: fc.Arbitrary<Method> = fc.oneof(
  ...METHODS.map((info) =>
    fc
      .record(Object.fromEntries(info.fields.map((f) => [camel(f.name), ARBITRARY[f.type]])))
      .map((args) => ({ id: info.id, ...args }) as Method),
  ),
);

describe('frame writer', () => {
  it('round-trips any method with any arguments through frame and decoder', () => {
    const writer = new FrameWriter(1 << 20);
    fc.assert(
      fc.property(anyMethod, fc.integer({ min: 0, max: 0xffff }), (m, channel) => {
        const frames = readAll([writer.method(channel, m)], 1 << 20);
        expect(frames).toHaveLength(1);
        const [frame] = frames;
        expect(frame).toMatchObject({ kind: 'method', channel });
        if (frame?.kind === 'method') expect(decodeMethodFrame(Buffer.from(frame.payload, 'hex'))).toEqual(m);
      }),
    );
  });

  it('cuts a body at frame-max - 8 into views of the body, never copies', () => {
    const body = Buffer.alloc(10_000, 7);
    const out: Buffer[] = [];
    const written = new FrameWriter(4096).content(3, { deliveryMode: 2 }, body, out);
    const views = out.filter((c) => c.buffer === body.buffer);
    expect(views.map((v) => v.length)).toEqual([4088, 4088, 1824]);
    expect(written).toBe(out.reduce((n, c) => n + c.length, 0));
    const frames = readAll([Buffer.concat(out)], 4096);
    expect(frames.map((f) => f.kind)).toEqual(['header', 'body', 'body', 'body']);
    expect(frames.every((f) => f.kind !== 'heartbeat' && f.kind !== 'protocol' && f.channel === 3)).toBe(
      true,
    );
  });

  it('sends a zero-length body as no body frame at all', () => {
    const out: Buffer[] = [];
    new FrameWriter().content(1, {}, Buffer.alloc(0), out);
    expect(readAll(out).map((f) => f.kind)).toEqual(['header']);
  });

  it(`inlines bodies up to ${INLINE_BODY_MAX} octets into one chunk with the method and header`, () => {
    const out: Buffer[] = [];
    const body = Buffer.from('hello');
    new FrameWriter().deliver(1, 'ctag', 1, false, 'x', 'rk', {}, body, out);
    expect(out).toHaveLength(1);
    expect(readAll(out).map((f) => f.kind)).toEqual(['method', 'header', 'body']);
  });

  it('builds basic.deliver byte-identical to the generic method encoder', () => {
    fc.assert(
      fc.property(
        shortstr,
        fc.maxSafeNat(),
        fc.boolean(),
        shortstr,
        shortstr,
        messageProperties,
        fc.uint8Array({ maxLength: 9000 }),
        (consumerTag, deliveryTag, redelivered, exchange, routingKey, props, bytes) => {
          const writer = new FrameWriter(4096);
          const body = Buffer.from(bytes);
          const fast: Buffer[] = [];
          const generic: Buffer[] = [];
          writer.deliver(5, consumerTag, deliveryTag, redelivered, exchange, routingKey, props, body, fast);
          const m: Method = {
            id: BASIC_DELIVER,
            consumerTag,
            deliveryTag,
            redelivered,
            exchange,
            routingKey,
          };
          writer.message(5, m, props, body, generic);
          expect(Buffer.concat(fast)).toEqual(Buffer.concat(generic));
          const frames = readAll(fast, 4096);
          const header = frames[1];
          if (header?.kind !== 'header') throw new Error('expected a content header');
          const decoded = decodeContentHeader(Buffer.from(header.payload, 'hex'));
          expect(decoded.bodySize).toBe(body.length);
          expect(decodeProperties(decoded.properties)).toEqual(props);
          const received = frames.flatMap((f) => (f.kind === 'body' ? [Buffer.from(f.payload, 'hex')] : []));
          expect(Buffer.concat(received)).toEqual(body);
        },
      ),
    );
  });

  it('writes the heartbeat frame RabbitMQ sends', () => {
    expect(HEARTBEAT_FRAME.toString('hex')).toBe('08000000000000ce');
  });
});
