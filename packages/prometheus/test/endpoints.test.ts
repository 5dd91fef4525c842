import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, Message, silentLogger, type Channel } from '@warren/core';
import { describeWith } from '../../../test/support/requires';
import { listenPrometheus, type PrometheusListener } from '../src';

let broker: Broker;
let listener: PrometheusListener;
let dataDir: string;
let serving = true;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warren-prometheus-'));
  broker = new Broker();
  await broker.start();
  listener = await listenPrometheus({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    serving: () => serving,
    node: 'warren@test',
    cluster: 'warren@test',
    clusterId: 'rabbitmq-cluster-id-test',
    productVersion: '0.1.0',
    dataDir,
    diskFreeLimit: 50_000_000,
  });
});

afterAll(async () => {
  await listener.close();
  await broker.close();
  await rm(dataDir, { recursive: true, force: true });
});

function channelOf(protocol: string): Channel {
  const user = broker.authenticate('guest', 'guest', true);
  const conn = broker.connect(user, '/', { protocol, remoteAddress: '127.0.0.1', remotePort: 1 });
  return conn.openChannel(1, { returned: () => {}, confirmed: () => {} });
}

function publish(ch: Channel, queue: string, body: string): void {
  ch.publish('', Message.fromProperties('', queue, {}, Buffer.from(body)));
}

async function scrape(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${listener.address.port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The value of one sample line, by its name and labels exactly as the text format prints them. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the Prometheus endpoint', () => {
  test('queue depth, consumers and the protocol counters, aggregated and per queue', async () => {
    const amqp = channelOf('amqp');
    amqp.queueDeclare('orders', { durable: false, exclusive: false, autoDelete: false, arguments: {} });
    for (let i = 0; i < 3; i++) publish(amqp, 'orders', 'x'.repeat(100));
    publish(amqp, 'nowhere', 'lost');
    const stomp = channelOf('stomp-ws');
    stomp.consume('orders', { noAck: false }, { deliver: () => {}, cancelledByBroker: () => {} });

    const agg = (await scrape('/metrics')).body;
    expect(sample(agg, 'rabbitmq_queue_messages_ready')).toBe(0);
    expect(sample(agg, 'rabbitmq_queue_messages_unacked')).toBe(3);
    expect(sample(agg, 'rabbitmq_queue_messages_unacked_bytes')).toBe(300);
    expect(sample(agg, 'rabbitmq_queue_consumers')).toBe(1);
    expect(sample(agg, 'rabbitmq_global_messages_received_total{protocol="amqp091"}')).toBe(4);
    expect(sample(agg, 'rabbitmq_global_messages_routed_total{protocol="amqp091"}')).toBe(3);
    expect(sample(agg, 'rabbitmq_global_messages_unroutable_dropped_total{protocol="amqp091"}')).toBe(1);
    const manual = 'rabbitmq_global_messages_delivered_consume_manual_ack_total';
    // Web STOMP counts as stomp, as RabbitMQ's Web STOMP runs its STOMP adapter.
    expect(sample(agg, `${manual}{protocol="stomp",queue_type="rabbit_classic_queue"}`)).toBe(3);
    expect(sample(agg, 'rabbitmq_message_size_bytes_bucket{protocol="amqp091",le="256"}')).toBe(4);
    expect(sample(agg, 'rabbitmq_message_size_bytes_bucket{protocol="amqp091",le="64"}')).toBe(1);
    expect(sample(agg, 'rabbitmq_connections')).toBe(2);
    expect(sample(agg, 'rabbitmq_connections_opened_total')).toBe(2);

    const perObject = (await scrape('/metrics/per-object')).body;
    expect(sample(perObject, 'rabbitmq_queue_messages_unacked{vhost="/",queue="orders"}')).toBe(3);
    expect(sample(perObject, 'rabbitmq_queue_messages_unacked')).toBeUndefined();

    amqp.connection.close();
    stomp.connection.close();
    const after = (await scrape('/metrics')).body;
    // The totals outlive the connections; the message went back to the queue with its consumer.
    expect(sample(after, 'rabbitmq_channel_messages_published_total')).toBe(4);
    expect(sample(after, 'rabbitmq_connections_closed_total')).toBe(2);
    expect(sample(after, 'rabbitmq_queue_messages_ready')).toBe(3);
  });

  test('/metrics/detailed gives only the families asked for, in the vhosts asked for', async () => {
    broker.addVhost('other');
    const { body } = await scrape('/metrics/detailed?family=queue_consumer_count&vhost=other');
    expect(body).toContain('# TYPE rabbitmq_detailed_queue_consumers gauge');
    expect(body).not.toContain('queue="orders"');
    expect(body).not.toContain('rabbitmq_detailed_queue_messages_ready');
    expect(body).toContain('rabbitmq_identity_info{');
  });

  test('/ready answers 200 while serving and 503 once a shutdown began; unknown paths 404', async () => {
    expect(await scrape('/ready')).toEqual({ status: 200, body: 'ok\n' });
    serving = false;
    expect(await scrape('/ready')).toEqual({ status: 503, body: 'shutting down\n' });
    serving = true;
    expect((await scrape('/api/overview')).status).toBe(404);
  });
});

describeWith(['prometheus'], 'promtool check metrics', () => {
  test.each([
    '/metrics',
    '/metrics/per-object',
    '/metrics/detailed?family=queue_coarse_metrics&family=connection_churn_metrics',
  ])('%s passes', async (path) => {
    const ch = channelOf('amqp');
    ch.queueDeclare('checked', { durable: false, exclusive: false, autoDelete: false, arguments: {} });
    publish(ch, 'checked', 'body');
    const { body } = await scrape(path);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({ status: 0, output: '' });
    ch.connection.close();
  });
});
