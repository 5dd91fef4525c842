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

  it('answers random bytes before CONNECT with at most one ERROR, then a close; never a throw', () => {
    // Biased towards noise and the first octets of CONNECT / STOMP, so some inputs get past the first line.
    const octet = fc.oneof(
      fc.constantFrom(0x00, 0x0a, 0x0d, 0x43, 0x4f, 0x4e, 0x53, 0x54, 0x3a),
      fc.nat({ max: 255 }),
    );
    const chunk = fc.array(octet, { maxLength: 64 }).map((list) => Buffer.from(list));
    const start = fc.constantFrom('', 'CONNECT\n', 'CONN', 'STOMP\r\n', '\n\0');
    fc.assert(
      fc.property(start, fc.array(chunk, { maxLength: 8 }), (prefix, chunks) => {
        const c = new SessionClient(broker);
        try {
          const input = Buffer.concat([Buffer.from(prefix), ...chunks]);
          c.raw(Buffer.from(prefix));
          for (const piece of chunks) c.raw(piece);
          const errors = c.of('ERROR');
          expect(errors.length).toBeLessThanOrEqual(1);
          if (errors.length === 1) {
            expect(errors[0]?.headers.get('message')).toBeDefined();
            // Before a CONNECT succeeds every ERROR closes; after it (the noise held a bare "CONNECT\n\n\0"),
            // some are answered and the session carries on, as RabbitMQ's 'Bad command'.
            if (c.of('CONNECTED').length === 0) expect(c.transport.ended).toBe(true);
          }
          // Whatever does not begin with noise and then C or S is no STOMP client: refused with the first chunk.
          const first = input.findIndex((o) => o !== 0x00 && o !== 0x0a && o !== 0x0d);
          if (first >= 0 && input[first] !== 0x43 && input[first] !== 0x53) {
            expect(errors).toHaveLength(1);
            expect(errors[0]?.headers.get('message')).toBe('Illegal command');
          }
        } finally {
          // Also when an expectation failed: a leaked session would fail the next property for the wrong reason.
          c.session.shutdown();
        }
      }),
      {
        numRuns: 500,
        // Found by a random run: a bare CONNECT, then a frame whose command is ':'.
        examples: [['CONNECT\n', [[10], [0], [58], [10], [10, 0]].map((o) => Buffer.from(o))]],
      },
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
