import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { portOf, warrenSandbox } from './warren-process';

// `warren start --config rabbitmq.conf`, as a RabbitMQ operator would run it, checked with a real AMQP client.

const sandbox = warrenSandbox('warren-rabbitmq-conf-');

function writeConf(lines: readonly string[]): string {
  const file = join(sandbox.dir, 'rabbitmq.conf');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('listens where the rabbitmq.conf says, creates its default user and vhost, warns of ignored keys', async () => {
  const file = writeConf([
    '# listeners on free ports of the loopback interface',
    'listeners.tcp.default = 127.0.0.1:0',
    'stomp.listeners.tcp.default = 127.0.0.1:0',
    'web_stomp.tcp.port = 0',
    'prometheus.tcp.port = 0',
    'default_user = admin',
    "default_pass = 'pa ss#word'",
    'default_vhost = /prod',
    'management.ssl.certfile = /etc/rabbitmq/management.pem',
  ]);
  const proc = sandbox.spawn([
    'start',
    '--config',
    file,
    '--http-port',
    '0',
    '--data-dir',
    join(sandbox.dir, 'data'),
  ]);
  await proc.waitForLine('warren started');
  const warning = proc.lines.find((l) => l['key'] === 'management.ssl.certfile');
  expect(warning).toMatchObject({ level: 40, line: 9, reason: expect.stringMatching(/ssl_options/) });

  const amqpPort = portOf(proc, 'amqp');
  expect(proc.lines.find((l) => l.msg === 'listening' && l['protocol'] === 'stomp')).toMatchObject({
    host: '127.0.0.1',
  });

  const connection = await amqp.connect({
    hostname: '127.0.0.1',
    port: amqpPort,
    username: 'admin',
    password: 'pa ss#word',
    vhost: '/prod',
  });
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue('orders', { durable: false });
    channel.sendToQueue('orders', Buffer.from('from a rabbitmq.conf broker'));
    const message = await new Promise<string>((resolve) => {
      void channel.consume('orders', (msg) => {
        if (msg !== null) resolve(msg.content.toString());
      });
    });
    expect(message).toBe('from a rabbitmq.conf broker');
  } finally {
    await connection.close();
  }

  // No guest user: the file's default user replaced it, as in RabbitMQ.
  await expect(
    amqp.connect({ hostname: '127.0.0.1', port: amqpPort, username: 'guest', password: 'guest' }),
  ).rejects.toThrow(/ACCESS_REFUSED|403/);

  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
});

test('an unknown key stops the start with status 2, naming the key and its line', async () => {
  const file = writeConf([
    'listeners.tcp.default = 127.0.0.1:0',
    '',
    'cluster_formation.peer_discovery_backend = k8s',
  ]);
  const proc = sandbox.spawn(['start', '--config', file]);
  expect(await proc.exited).toBe(2);
  expect(proc.stderr()).toContain(
    `warren: config file ${file}, line 3: "cluster_formation.peer_discovery_backend": unknown key`,
  );
});
