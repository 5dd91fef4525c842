import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { describeWith } from '../support/requires';
import { startWarren, type TestBroker } from '../support/warren';

/*
 * A real Prometheus server (Debian's) scrapes Warren every second and answers the PromQL of the main panels of
 * RabbitMQ's "RabbitMQ-Overview" Grafana dashboard (id 10991), verbatim with its variables filled in, with the
 * numbers this test produced over AMQP and STOMP.
 */

const CLUSTER = 'rabbitmq_cluster="$rabbitmq_cluster", namespace="$namespace"';
const PANELS = {
  ready: `sum(rabbitmq_queue_messages_ready * on(instance) group_left(rabbitmq_cluster) rabbitmq_identity_info{${CLUSTER}})`,
  unacked: `sum(rabbitmq_queue_messages_unacked * on(instance) group_left(rabbitmq_cluster) rabbitmq_identity_info{${CLUSTER}})`,
  connections: `sum(rabbitmq_connections * on(instance) group_left(rabbitmq_cluster) rabbitmq_identity_info{${CLUSTER}})`,
  incoming: `sum(rate(rabbitmq_channel_messages_published_total[60s]) * on(instance) group_left(rabbitmq_cluster) rabbitmq_identity_info{${CLUSTER}})`,
  outgoing: [
    'rabbitmq_channel_messages_redelivered_total',
    'rabbitmq_channel_messages_delivered_total',
    'rabbitmq_channel_messages_delivered_ack_total',
    'rabbitmq_channel_get_total',
    'rabbitmq_channel_get_ack_total',
  ]
    .map(
      (m) =>
        `sum(rate(${m}[60s]) * on(instance) group_left(rabbitmq_cluster) rabbitmq_identity_info{${CLUSTER}})`,
    )
    .join(' +\n'),
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWith(['prometheus'], 'a real Prometheus server scraping Warren', () => {
  let broker: TestBroker;
  let dir: string;
  let prometheus: ChildProcess;
  let api: string;
  let cluster: string;

  beforeAll(async () => {
    broker = await startWarren();
    const metricsPort = broker.server?.listeners.find((l) => l.name === 'prometheus')?.address.port;
    dir = await mkdtemp(join(tmpdir(), 'warren-prometheus-server-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: warren',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${metricsPort}']`,
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), `${config}\n`);
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    cluster = /rabbitmq_cluster="([^"]+)"/.exec(await res.text())?.[1] ?? '';
  }, 30_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (prometheus?.exitCode === null) await new Promise((resolve) => prometheus.once('exit', resolve));
    await broker?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The panel's value from Prometheus, once the condition holds; fails with the last answer at the deadline. */
  async function panel(expr: string, holds: (v: number) => boolean, timeoutMs = 30_000): Promise<number> {
    const query = expr.replaceAll('$rabbitmq_cluster', cluster).replaceAll('$namespace', '');
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const res = await fetch(`${api}/query?query=${encodeURIComponent(query)}`);
        last = await res.json();
        const value = (last as { data?: { result?: { value: [number, string] }[] } }).data?.result?.[0]
          ?.value[1];
        if (value !== undefined && holds(Number(value))) return Number(value);
      } catch (err) {
        last = err; // Prometheus still starting
      }
      if (Date.now() > deadline)
        throw new Error(`${query}\nnever held; last answer: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  test('ready, unacked, connections and the publish and deliver rates of the RabbitMQ-Overview dashboard', async () => {
    // rate() needs a sample from before the traffic: wait for Prometheus's first scrape.
    await panel('sum(rabbitmq_channel_messages_published_total)', (v) => v === 0);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('dash-ready', { durable: false });
    await ch.assertQueue('dash-unacked', { durable: false });
    for (let i = 0; i < 7; i++) ch.sendToQueue('dash-ready', Buffer.from(`r${i}`));
    for (let i = 0; i < 4; i++) ch.sendToQueue('dash-unacked', Buffer.from(`u${i}`));
    await ch.waitForConfirms();
    const consumer = await conn.createChannel();
    let held = 0;
    await consumer.consume('dash-unacked', () => void held++, { noAck: false });

    // STOMP: a second connection, which publishes 5 more messages onto dash-ready.
    const stomp = connectTcp({ host: '127.0.0.1', port: broker.stompPort });
    stomp.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
    for (let i = 0; i < 5; i++) stomp.write(`SEND\ndestination:/amq/queue/dash-ready\n\ns${i}\0`);
    stomp.write('SEND\ndestination:/amq/queue/dash-ready\nreceipt:done\n\nlast\0');
    let seen = '';
    await new Promise<void>((resolve) =>
      stomp.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('receipt-id:done')) resolve();
      }),
    );

    expect(await panel(PANELS.ready, (v) => v === 13)).toBe(13);
    expect(await panel(PANELS.unacked, (v) => v === 4)).toBe(4);
    expect(await panel(PANELS.connections, (v) => v === 2)).toBe(2);
    // 17 publishes and 4 deliveries, within a 60 s rate window: rates above zero (the window holds them all).
    expect(await panel(PANELS.incoming, (v) => v > 0)).toBeGreaterThan(0);
    expect(await panel(PANELS.outgoing, (v) => v > 0)).toBeGreaterThan(0);
    // The totals behind the rates are exactly what was sent, per protocol.
    expect(await panel('sum(rabbitmq_channel_messages_published_total)', (v) => v === 17)).toBe(17);
    expect(await panel('rabbitmq_global_messages_received_total{protocol="stomp"}', (v) => v === 6)).toBe(6);
    expect(await panel('sum(rabbitmq_channel_messages_delivered_ack_total)', (v) => v === 4)).toBe(4);
    expect(held).toBe(4);
    stomp.destroy();
    await conn.close();
  }, 90_000);
});
