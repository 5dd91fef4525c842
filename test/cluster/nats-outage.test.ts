import amqp from 'amqplib';
import { startNatsCluster, type NatsCluster } from '@warren/cluster';
import { waitFor } from '@warren/testkit';
import { RawClient } from '../stomp-clients/support';
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

  beforeAll(async () => {
    nats = await startNatsCluster({ servers: 3 });
    await nats.ready();
    node = await startWarren(clusterConfig(nats, 'alone'));
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
      await waitFor(() => got.length >= 3, 15_000, 'the three messages');
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
