import { join } from 'node:path';
import amqp from 'amqplib';
import { ALL_PORTS_FREE, portOf, warrenSandbox, within, type WarrenProcess } from './warren-process';
import { RawClient } from '../../../test/stomp-clients/support';
import { VERSION } from '../src';

/*
 * What the broker calls itself, as a client and a monitor see it from a real `warren start`: amqplib's
 * connection.serverProperties, a STOMP CONNECTED's server header over a raw socket, GET /api/overview.
 */

const sandbox = warrenSandbox('warren-product-');

async function started(env: Record<string, string>): Promise<WarrenProcess> {
  const proc = sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')], env);
  await proc.waitForLine('warren started');
  return proc;
}

async function stop(proc: WarrenProcess): Promise<void> {
  proc.child.kill('SIGTERM');
  expect(await within(proc.exited, 15_000, 'warren exit')).toBe(0);
}

interface Advertised {
  amqp: { product: unknown; version: unknown };
  stompServer: string | undefined;
  overview: { product_name: unknown; product_version: unknown };
}

async function advertised(proc: WarrenProcess): Promise<Advertised> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
  const { product, version } = conn.connection.serverProperties;
  await conn.close();

  const stomp = await RawClient.open(portOf(proc, 'stomp'));
  stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
  const connected = await stomp.next('CONNECTED');
  stomp.frame('DISCONNECT');

  const res = await fetch(`http://127.0.0.1:${portOf(proc, 'http')}/api/overview`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  expect(res.status).toBe(200);
  const overview = (await res.json()) as Advertised['overview'];
  return {
    amqp: { product, version },
    stompServer: connected.headers.get('server'),
    overview: { product_name: overview.product_name, product_version: overview.product_version },
  };
}

describe('advertised product name and version', () => {
  test('by default: Warren and its release, on AMQP, STOMP and the management API', async () => {
    const proc = await started({});
    try {
      expect(await advertised(proc)).toEqual({
        amqp: { product: 'Warren', version: VERSION },
        stompServer: `Warren/${VERSION}`,
        overview: { product_name: 'Warren', product_version: VERSION },
      });
    } finally {
      await stop(proc);
    }
  });

  test("RabbitMQ's RABBITMQ_PRODUCT_* variables, below WARREN_PRODUCT_*", async () => {
    const proc = await started({
      RABBITMQ_PRODUCT_NAME: 'RabbitMQ',
      RABBITMQ_PRODUCT_VERSION: '3.12.0',
      WARREN_PRODUCT_VERSION: '3.13.7',
    });
    try {
      expect(await advertised(proc)).toEqual({
        amqp: { product: 'RabbitMQ', version: '3.13.7' },
        stompServer: 'RabbitMQ/3.13.7',
        overview: { product_name: 'RabbitMQ', product_version: '3.13.7' },
      });
    } finally {
      await stop(proc);
    }
  });
});
