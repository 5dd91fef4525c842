import { parseAckSubject } from '@warren/cluster';

describe("a JetStream ack subject's metadata", () => {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
  const storedAtNs = '1764768000123456789'; // past 2^53: read without losing the milliseconds

  test('the 9-token form: delivery count, stream sequence, pending, and when the stream stored it', () => {
    expect(parseAckSubject(`$JS.ACK.WQ__2f~orders.warren.2.17.40.${storedAtNs}.5`)).toEqual({
      deliveryCount: 2,
      seq: 17,
      pending: 5,
      storedAt: 1764768000123,
    });
  });

  test('the form with domain and account hash reads the same fields', () => {
    expect(
      parseAckSubject(`$JS.ACK.hub.ACCHASH.WQ__2f~orders.warren.1.3.3.${storedAtNs}.0.token`),
    ).toMatchObject({ deliveryCount: 1, seq: 3, storedAt: 1764768000123 });
  });

  test('anything else is not an ack subject', () => {
    expect(parseAckSubject('_INBOX.abc.1')).toBeUndefined();
    expect(parseAckSubject('$JS.ACK.s.c.x.1.1.1.0')).toBeUndefined();
  });
});
