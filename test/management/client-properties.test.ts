import amqp from 'amqplib';
import { startWarren, type TestBroker } from '../support/warren';

/** What an operator reads of a client in the management API: what the client said of itself at connect. */
let warren: TestBroker;

beforeAll(async () => {
  warren = await startWarren();
});
afterAll(() => warren.close());

test("an AMQP client's connection_name and client properties are shown as RabbitMQ shows them", async () => {
  const conn = await amqp.connect(`amqp://guest:guest@${warren.host}:${warren.amqpPort}`, {
    clientProperties: { connection_name: 'billing-worker-3' },
  });
  try {
    const res = await fetch(`http://${warren.host}:${warren.httpPort}/api/connections`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    const [row] = (await res.json()) as Record<string, unknown>[];
    expect(row).toMatchObject({
      user_provided_name: 'billing-worker-3',
      client_properties: {
        connection_name: 'billing-worker-3',
        product: 'amqplib',
        capabilities: expect.objectContaining({ consumer_cancel_notify: true }),
      },
    });
  } finally {
    await conn.close();
  }
});
