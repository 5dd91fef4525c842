import fc from 'fast-check';
import { decodeProperties, encodeProperties } from '@warren/amqp';
import { propertiesFromSend, StompFailure } from '@warren/stomp';

// What an AMQP consumer is handed is encoded from the properties a STOMP SEND produced. Validation at the door
// means: a SEND is either refused (Invalid header) or yields properties the AMQP encoder can always write.
const MAPPED = [
  'content-type',
  'content-encoding',
  'persistent',
  'priority',
  'correlation-id',
  'reply-to',
  'expiration',
  'amqp-message-id',
  'message-id',
  'timestamp',
  'type',
  'user-id',
  'app-id',
];

/** Text around the 255-octet shortstr bound, in one-, two-, three- and four-octet characters. */
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc
    .tuple(fc.constantFrom('a', 'é', '€', '😀'), fc.integer({ min: 60, max: 260 }))
    .map(([ch, n]) => ch.repeat(n)),
  fc.constantFrom('true', 'True', 'FALSE', 'yes', '0', '255', '256', ' 7 ', '-1', '9007199254740992', '1e3'),
  fc.constantFrom('/reply-queue/q', '/temp-queue/t', `/queue/${'q'.repeat(250)}`),
);
const name = fc.oneof(
  fc.constantFrom(...MAPPED),
  text.filter((n) => n.length > 0),
);

test('a SEND is refused with Invalid header or gives properties the AMQP encoder writes and reads back', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(name, text), { maxLength: 8 }), (pairs) => {
      const headers = new Map<string, string>();
      for (const [n, v] of pairs) if (!headers.has(n)) headers.set(n, v);
      let properties;
      try {
        properties = propertiesFromSend(headers, (r) => (r.startsWith('/temp-queue/') ? 'amq.gen-x' : r));
      } catch (error) {
        expect(error).toBeInstanceOf(StompFailure);
        expect((error as StompFailure).message).toBe('Invalid header');
        return;
      }
      const raw = encodeProperties(properties);
      const back = decodeProperties(raw);
      expect(back.contentType).toBe(properties.contentType);
      expect(back.priority).toBe(properties.priority);
      expect(back.timestamp).toBe(properties.timestamp);
      expect(Object.keys(back.headers ?? {})).toEqual(Object.keys(properties.headers ?? {}));
    }),
    { numRuns: 1000 },
  );
});
