import fc from 'fast-check';
import type { Broker } from '@warren/core';
import { SessionClient, startBroker } from './session-helpers';

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});

const command = fc.constantFrom(
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'ACK',
  'NACK',
  'BEGIN',
  'COMMIT',
  'ABORT',
  'FOO',
);
const headerName = fc.constantFrom(
  'destination',
  'id',
  'ack',
  'transaction',
  'receipt',
  'selector',
  'message-id',
  'x-max-length',
  'persistent',
  'prefetch-count',
);
const headerValue = fc.oneof(
  fc.constantFrom(
    '/queue/f',
    '/topic/f.#',
    '/exchange/amq.fanout',
    'foo',
    '/temp-queue/t',
    'client',
    'auto',
    'true',
    '1',
    "a = 'b'",
    'T_1@@x@@1',
    '/bogus',
  ),
  fc.string({ maxLength: 12 }),
);
const frame = fc.record({
  command,
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
  body: fc.string({ maxLength: 20 }),
});

describe('a session fed arbitrary input', () => {
  it('never throws on random bytes, before or after CONNECT', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        (connect, chunks) => {
          const c = new SessionClient(broker);
          if (connect) c.connect();
          for (const chunk of chunks) c.raw(Buffer.from(chunk));
          c.session.shutdown();
        },
      ),
    );
    expect(broker.connections.size).toBe(0);
  });

  it('never throws on a random conversation of well-formed frames and leaves no connection behind', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 12 }), (frames) => {
        const c = new SessionClient(broker);
        c.connect();
        for (const f of frames) {
          if (c.session.closed) break;
          c.frame(f.command, Object.fromEntries(f.headers), f.body);
        }
        c.session.shutdown();
      }),
      { numRuns: 300 },
    );
    expect(broker.connections.size).toBe(0);
  });
});
