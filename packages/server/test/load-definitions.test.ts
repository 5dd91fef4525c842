import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { ALL_PORTS_FREE, portOf, REPO_ROOT, warrenSandbox } from './warren-process';

// load_definitions with the real CLI: a RabbitMQ export named in rabbitmq.conf is there before the first client
// connects; a file that cannot be imported stops the start with one line naming it, before any port is bound.

const sandbox = warrenSandbox('warren-load-definitions-');
const FIXTURE = join(REPO_ROOT, 'test', 'admin', 'fixtures', 'rabbitmq-3.10-definitions.json');

test("rabbitmq.conf's load_definitions: the export's users and queues are there when clients connect", async () => {
  const conf = join(sandbox.dir, 'rabbitmq.conf');
  writeFileSync(
    conf,
    [
      'listeners.tcp.default = 127.0.0.1:0',
      'stomp.listeners.tcp.default = 127.0.0.1:0',
      'web_stomp.tcp.port = 0',
      `load_definitions = ${FIXTURE}`,
      '',
    ].join('\n'),
  );
  const proc = sandbox.spawn([
    'start',
    '--config',
    conf,
    '--http-port',
    '0',
    '--data-dir',
    join(sandbox.dir, 'data'),
  ]);
  await proc.waitForLine('warren started');
  expect(proc.lines.find((l) => l.msg === 'definitions loaded')).toMatchObject({ path: FIXTURE, files: 1 });
  const connection = await amqp.connect(
    `amqp://alice:alice-secret@127.0.0.1:${portOf(proc, 'amqp')}/fixture`,
  );
  const channel = await connection.createChannel();
  await expect(channel.checkQueue('orders.eu')).resolves.toMatchObject({
    queue: 'orders.eu',
    messageCount: 0,
  });
  await connection.close();
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
});

test('a bad definitions file stops the start with one line naming the file and the item', async () => {
  const bad = join(sandbox.dir, 'defs.json');
  writeFileSync(bad, JSON.stringify({ queues: [{ name: 'q', vhost: '/', durable: 'yes' }] }));
  const proc = sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')], {
    WARREN_LOAD_DEFINITIONS: bad,
  });
  expect(await proc.exited).toBe(1);
  const message = `cannot load definitions from ${bad}: definitions: queues[0] 'q': durable must be true or false`;
  expect(proc.stderr()).toBe(`warren: ${message}\n`);
  expect(proc.lines.find((l) => l.level === 60)).toMatchObject({ msg: message, file: bad });
  expect(proc.lines.some((l) => l.msg === 'listening')).toBe(false);
});

test('a definitions file that is not JSON, or not there, is named as well', async () => {
  const notJson = join(sandbox.dir, 'broken.json');
  writeFileSync(notJson, '{"users": [');
  const args = ['start', ...ALL_PORTS_FREE];
  const first = sandbox.spawn([...args, '--data-dir', join(sandbox.dir, 'd1')], {
    WARREN_LOAD_DEFINITIONS: notJson,
  });
  expect(await first.exited).toBe(1);
  expect(first.stderr()).toMatch(new RegExp(`^warren: cannot load definitions from ${notJson}: not JSON: `));
  const missing = join(sandbox.dir, 'absent.json');
  const second = sandbox.spawn([...args, '--data-dir', join(sandbox.dir, 'd2')], {
    WARREN_LOAD_DEFINITIONS: missing,
  });
  expect(await second.exited).toBe(1);
  expect(second.stderr()).toMatch(new RegExp(`^warren: cannot load definitions from ${missing}: ENOENT`));
});
