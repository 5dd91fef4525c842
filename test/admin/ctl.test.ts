// `warren ctl` as the RabbitMQ tutorial's reader uses rabbitmqctl: to debug a forgotten ack, list the queues
// with their ready and unacknowledged counts while a pika worker holds deliveries it never acks.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import {
  ALL_PORTS_FREE,
  portOf,
  REPO_ROOT,
  warrenSandbox,
  type WarrenProcess,
} from '../../packages/server/test/warren-process';
import { killAllPrograms, startPython } from '../support/python';
import { describeWith } from '../support/requires';

const run = promisify(execFile);
const WARREN = join(REPO_ROOT, 'packages', 'server', 'bin', 'warren.js');

interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

describeWith(['python3-pika'], 'warren ctl against a running Warren', () => {
  const sandbox = warrenSandbox('warren-ctl-');
  let proc: WarrenProcess;
  let url: string;

  beforeEach(async () => {
    proc = sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')]);
    await proc.waitForLine('warren started');
    url = `http://guest:guest@127.0.0.1:${portOf(proc, 'http')}`;
  });
  afterEach(() => killAllPrograms());

  async function ctl(...args: string[]): Promise<CtlResult> {
    try {
      const { stdout, stderr } = await run('node', [WARREN, 'ctl', '--url', url, ...args]);
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  test('list_queues shows the messages a forgetful pika worker holds unacknowledged', async () => {
    const amqpPort = portOf(proc, 'amqp');
    const worker = startPython(
      join(__dirname, 'programs', 'forgotten_ack.py'),
      {
        host: '127.0.0.1',
        amqpPort,
      },
      { args: ['task_queue'] },
    );
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('task_queue', { durable: true });
    for (const body of ['one', 'two', 'three']) channel.sendToQueue('task_queue', Buffer.from(body));
    await channel.waitForConfirms();
    await worker.waitForLine(/\(2 unacked\)/);

    const listed = await ctl('list_queues', 'name', 'messages_ready', 'messages_unacknowledged');
    expect(listed).toEqual({
      code: 0,
      stdout:
        'Listing queues for vhost / ...\nname\tmessages_ready\tmessages_unacknowledged\ntask_queue\t1\t2\n',
      stderr: '',
    });
    expect((await ctl('-q', 'list_queues', 'name', 'consumers')).stdout).toBe(
      'name\tconsumers\ntask_queue\t1\n',
    );
    expect((await ctl('-s', 'list_queues', 'name', 'messages')).stdout).toBe('task_queue\t3\n');
    expect(JSON.parse((await ctl('--formatter', 'json', 'list_queues', 'name', 'messages')).stdout)).toEqual([
      { name: 'task_queue', messages: 3 },
    ]);

    // When the worker dies its deliveries go back: all three ready again.
    await worker.stop();
    for (;;) {
      const after = await ctl('-s', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged');
      if (after.stdout === 'task_queue\t3\t0\n') break;
    }
    await connection.close();
  });

  test('users, vhosts and permissions: added, listed, used, removed', async () => {
    expect((await ctl('add_user', 'alice', 's3cret')).code).toBe(0);
    expect(await ctl('add_user', 'alice', 'again')).toMatchObject({
      code: 70,
      stderr: 'Error:\nUser "alice" already exists\n',
    });
    expect((await ctl('set_user_tags', 'alice', 'monitoring')).code).toBe(0);
    expect((await ctl('add_vhost', 'orders')).code).toBe(0);
    expect((await ctl('set_permissions', '-p', 'orders', 'alice', '^alice-.*', '.*', '.*')).code).toBe(0);
    expect((await ctl('-q', 'list_users')).stdout).toContain('alice\t[monitoring]\n');
    expect((await ctl('-q', 'list_user_permissions', 'alice')).stdout).toBe(
      'vhost\tconfigure\twrite\tread\norders\t^alice-.*\t.*\t.*\n',
    );

    // The new user logs in over AMQP to its vhost at once; a queue outside its configure pattern is refused.
    const conn = await amqp.connect(`amqp://alice:s3cret@127.0.0.1:${portOf(proc, 'amqp')}/orders`);
    const ch = await conn.createChannel();
    await ch.assertQueue('alice-inbox');
    expect((await ctl('-s', '-p', 'orders', 'list_queues', 'name')).stdout).toBe('alice-inbox\n');
    await conn.close();

    expect(await ctl('delete_vhost', 'nope')).toMatchObject({ code: 65 });
    expect((await ctl('delete_vhost', 'orders')).code).toBe(0);
    expect((await ctl('delete_user', 'alice')).code).toBe(0);
    expect((await ctl('-q', 'list_users')).stdout).not.toContain('alice');
  });

  test('definitions go out to a file and come back in', async () => {
    const file = join(sandbox.dir, 'definitions.json');
    expect((await ctl('add_vhost', 'exported')).code).toBe(0);
    expect((await ctl('export_definitions', file)).code).toBe(0);
    expect((await ctl('delete_vhost', 'exported')).code).toBe(0);
    expect((await ctl('import_definitions', file)).code).toBe(0);
    expect((await ctl('-s', 'list_vhosts')).stdout.split('\n')).toContain('exported');
  });

  test('usage errors exit 64, an unreachable broker 69', async () => {
    expect(await ctl('list_qeues')).toMatchObject({ code: 64 });
    expect(await ctl('add_user', 'only-a-name')).toMatchObject({ code: 64 });
    url = 'http://guest:guest@127.0.0.1:1';
    expect(await ctl('list_queues')).toMatchObject({ code: 69 });
  });
});
