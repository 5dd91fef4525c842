import fc from 'fast-check';
import {
  argumentsId,
  decodeToken,
  encodeToken,
  KeyCodecError,
  parseKey,
  queueStreamName,
  logStreamName,
  logSubject,
  queueSubject,
  recordKey,
} from '@warren/cluster';
import { name, record } from './arbitraries';

/** A NATS subject token: non-empty, no '.', '*', '>' or whitespace; here also nothing but [A-Za-z0-9_-]. */
const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A JetStream KV key: [-/_=.a-zA-Z0-9]+, not starting or ending with '.'. */
const KV_KEY = /^[-/_=.a-zA-Z0-9]+$/;

describe('key codec', () => {
  test.each([
    ['', '_'],
    ['orders', 'orders'],
    ['order-events', 'order-events'],
    ['/', '_2f'],
    ['amq.topic', 'amq_2etopic'],
    ['a_b', 'a_5fb'],
    ['*', '_2a'],
    ['>', '_3e'],
    ['a b', 'a_20b'],
    ['é', '_c3_a9'],
  ])('%j is the token %j', (n, token) => {
    expect(encodeToken(n)).toBe(token);
    expect(decodeToken(token)).toBe(n);
  });

  test.each(['', '_2E', '_41', 'a.b', 'a_', 'a_2', '_zz', '_c3', 'é'])('%j is not a token', (t) => {
    expect(() => decodeToken(t)).toThrow(KeyCodecError);
  });

  test('a lone surrogate has no UTF-8 form and is refused', () => {
    expect(() => encodeToken('\ud800')).toThrow(KeyCodecError);
  });

  test('every name round-trips through a subject-safe token', () => {
    fc.assert(
      fc.property(name, (n) => {
        const t = encodeToken(n);
        expect(t).toMatch(TOKEN);
        expect(decodeToken(t)).toBe(n);
      }),
    );
  });

  test('a token decodes only to the name that encodes to it (one token per name)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('_', '2', 'e', 'E', 'a', '-', '4', '1'), maxLength: 8 }),
        (t) => {
          let n: string;
          try {
            n = decodeToken(t);
          } catch {
            return;
          }
          expect(encodeToken(n)).toBe(t);
        },
      ),
    );
  });

  test('every record key is a KV key that parses back to the record it names', () => {
    fc.assert(
      fc.property(record, (r) => {
        const key = recordKey(r);
        expect(key).toMatch(KV_KEY);
        expect(key.startsWith('.') || key.endsWith('.')).toBe(false);
        const p = parseKey(key);
        expect(p.kind).toBe(r.kind);
        switch (r.kind) {
          case 'vhost':
            expect(p).toEqual({ kind: 'vhost', vhost: r.name });
            break;
          case 'user':
            expect(p).toEqual({ kind: 'user', user: r.name });
            break;
          case 'permission':
            expect(p).toEqual({ kind: 'permission', vhost: r.vhost, user: r.user });
            break;
          case 'topic-permission':
            expect(p).toEqual({
              kind: 'topic-permission',
              vhost: r.vhost,
              user: r.user,
              exchange: r.exchange,
            });
            break;
          case 'exchange':
          case 'queue':
            expect(p).toEqual({ kind: r.kind, vhost: r.vhost, name: r.name });
            break;
          case 'stream-chunk':
            expect(p).toEqual({ kind: 'stream-chunk', vhost: r.vhost, name: r.name, offset: r.offset });
            break;
          case 'binding':
            expect(p).toEqual({
              kind: 'binding',
              vhost: r.vhost,
              source: r.source,
              destinationKind: r.destinationKind,
              destination: r.destination,
              routingKey: r.routingKey,
              argumentsId: argumentsId(r.arguments),
            });
            break;
        }
      }),
    );
  });

  test('two records share a key only when they name the same object', () => {
    fc.assert(
      fc.property(record, record, (a, b) => {
        if (recordKey(a) !== recordKey(b)) return;
        expect(parseKey(recordKey(a))).toEqual(parseKey(recordKey(b)));
      }),
    );
  });

  test('binding arguments that differ give different keys; key order does not matter', () => {
    const b = {
      kind: 'binding' as const,
      vhost: '/',
      source: 'amq.headers',
      destination: 'q',
      destinationKind: 'queue' as const,
      routingKey: '',
    };
    const k1 = recordKey({ ...b, arguments: { 'x-match': 'all', a: 1 } });
    const k2 = recordKey({ ...b, arguments: { a: 1, 'x-match': 'all' } });
    const k3 = recordKey({ ...b, arguments: { 'x-match': 'any', a: 1 } });
    expect(k1).toBe(k2);
    expect(k1).not.toBe(k3);
    expect(recordKey({ ...b, arguments: {} })).toBe('b._2f.amq_2eheaders.q.q._.-');
  });

  test.each(['', 'z.a', 'q.a', 'q.a.b.c', 'b._2f.s.y.d.rk.-', 'b._2f.s.q.d.rk.xyz', 's.a.b.01', 'q.a_2E.b'])(
    '%j is not a topology key',
    (key) => {
      expect(() => parseKey(key)).toThrow(KeyCodecError);
    },
  );

  test('queue subjects are warren.q.<vhost>.<queue>, stream names are bounded and distinct', () => {
    expect(queueSubject('/', 'orders')).toBe('warren.q._2f.orders');
    expect(queueStreamName('/', 'orders')).toBe('WQ__2f~orders');
    fc.assert(
      fc.property(name, name, name, name, (v1, q1, v2, q2) => {
        const s = queueStreamName(v1, q1);
        expect(s.length).toBeLessThanOrEqual(200);
        expect(s).toMatch(/^WQ_[A-Za-z0-9_~-]+$/);
        expect(
          queueSubject(v1, q1)
            .split('.')
            .every((t) => TOKEN.test(t)),
        ).toBe(true);
        if (v1 !== v2 || q1 !== q2) {
          expect(queueStreamName(v2, q2)).not.toBe(s);
          expect(queueSubject(v2, q2)).not.toBe(queueSubject(v1, q1));
        }
      }),
    );
    const long = 'é'.repeat(255);
    const a = queueStreamName('/', long);
    expect(a.length).toBeLessThanOrEqual(200);
    expect(a).toContain('~~');
    expect(queueStreamName('/', long + 'x')).not.toBe(a);
  });

  test("a stream queue's log has names of its own beside the work-queue stream's", () => {
    expect(logSubject('/', 'events')).toBe('warren.s._2f.events');
    expect(logStreamName('/', 'events')).toBe('LOG__2f~events');
    expect(logStreamName('/', 'é'.repeat(255)).length).toBeLessThanOrEqual(200);
  });
});
