import amqp from 'amqplib';
import { startNatsCluster, type NatsCluster } from '@warren/cluster';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
import { RecordingLogger } from '../support/recording-logger';
import { describeWith } from '../support/requires';
import { startWarren, type TestBroker } from '../support/warren';
import { clusterConfig } from './support';

/**
 * A node that loses NATS cannot replicate, so it must not confirm: its publishers are blocked (AMQP
 * connection.blocked, STOMP reading paused) until NATS is back, and then what they sent is confirmed.
 */
describeWith(['nats-server'], 'a cluster node without NATS', () => {
  let nats: NatsCluster;
  let node: TestBroker;
  const log = new RecordingLogger();

  beforeAll(async () => {
    nats = await startNatsCluster({ servers: 3 });
    await nats.ready();
    node = await startWarren(clusterConfig(nats, 'alone'), { logger: log });
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  test('blocks its publishers while every NATS server is down and confirms once they are back', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@${node.host}:${node.amqpPort}`);
    try {
      const events: string[] = [];
      conn.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
      conn.on('unblocked', () => events.push('unblocked'));
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('orders', { durable: true });
      // RabbitMQ tells connections that publish (as Warren does): this one is one.
      ch.sendToQueue('orders', Buffer.from('sent before'), { persistent: true });
      await ch.waitForConfirms();
      const stomp = await RawClient.open(node.stompPort);
      stomp.frame('CONNECT', { 'accept-version': '1.2', host: '/', login: 'guest', passcode: 'guest' });
      await stomp.next('CONNECTED');

      for (let i = 0; i < 3; i++) await nats.kill(i);
      const alarms = node.server!.broker.alarms;
      await waitFor(() => alarms.isRaised('cluster'), 15_000, 'the cluster alarm');

      // As under a memory alarm, the next publish blocks its connection (RabbitMQ's behaviour).
      let confirmed = false;
      ch.sendToQueue('orders', Buffer.from('sent while NATS was down'), { persistent: true });
      const confirms = ch.waitForConfirms().then(() => (confirmed = true));
      await waitFor(() => events.length > 0, 15_000, 'connection.blocked');
      expect(events).toEqual(['blocked: cluster unreachable']);
      expect(confirmed).toBe(false);
      stomp.frame('SEND', { destination: '/amq/queue/orders', receipt: 'r1' }, 'STOMP while NATS was down');

      for (let i = 0; i < 3; i++) await nats.restart(i);
      await waitFor(() => events.includes('unblocked'), 30_000, 'connection.unblocked');
      await confirms;
      expect(confirmed).toBe(true);
      await stomp.next('RECEIPT');
      stomp.close();

      const got: string[] = [];
      await ch.consume('orders', (m) => {
        if (m === null) return;
        got.push(m.content.toString());
        ch.ack(m);
      });
      // A whole NATS cluster restarting elects its stream and consumer leaders anew: seconds on a loaded machine.
      await waitFor(() => got.length >= 3, 30_000, 'the three messages').catch((err: Error) => {
        const lines = log.lines
          .filter((l) => l.level !== 'debug')
          .map((l) => `${l.level} ${l.msg ?? ''} ${JSON.stringify(l.fields)}`);
        throw new Error(`${err.message}; got ${JSON.stringify(got)}\n${lines.slice(-40).join('\n')}`);
      });
      expect([...got].sort()).toEqual([
        'STOMP while NATS was down',
        'sent before',
        'sent while NATS was down',
      ]);
    } finally {
      await conn.close().catch(() => {});
    }
  }, 90_000);
});
