import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith } from '../support/requires';
import { startWarren, type TestBroker } from '../support/warren';

/** Runs a command to completion: its exit status and output. */
function run(command: string, args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

let warren: TestBroker;

beforeAll(async () => {
  warren = await startWarren();
});

afterAll(async () => {
  await warren.close();
});

describeWith(['rabbitmq-server'], "Debian's rabbitmqadmin against Warren", () => {
  const admin = (...args: string[]) =>
    run('rabbitmqadmin', [
      '-H',
      '127.0.0.1',
      '-P',
      String(warren.httpPort),
      '-u',
      'guest',
      '-p',
      'guest',
      ...args,
    ]);

  test('declares, binds, publishes, gets, lists with columns, deletes', async () => {
    expect(await admin('declare', 'exchange', 'name=orders', 'type=topic')).toMatchObject({ status: 0 });
    expect(await admin('declare', 'queue', 'name=orders.eu', 'durable=true')).toMatchObject({ status: 0 });
    const bind = await admin(
      'declare',
      'binding',
      'source=orders',
      'destination=orders.eu',
      'routing_key=eu.#',
    );
    expect(bind).toMatchObject({ status: 0 });
    const published = await admin('publish', 'exchange=orders', 'routing_key=eu.1', 'payload=hello');
    expect(published.out).toContain('Message published');
    expect(published.out).not.toContain('NOT routed');

    const got = await admin('-f', 'raw_json', 'get', 'queue=orders.eu', 'ackmode=ack_requeue_true');
    expect(JSON.parse(got.out)).toEqual([expect.objectContaining({ payload: 'hello', routing_key: 'eu.1' })]);

    const listed = await admin('-f', 'tsv', 'list', 'queues', 'name', 'messages');
    expect(listed.status).toBe(0);
    expect(listed.out.split('\n')).toContain('orders.eu\t1');
    const bindings = await admin('-f', 'tsv', 'list', 'bindings', 'source', 'destination', 'routing_key');
    expect(bindings.out.split('\n')).toContain('orders\torders.eu\teu.#');

    expect(await admin('purge', 'queue', 'name=orders.eu')).toMatchObject({ status: 0 });
    expect(await admin('delete', 'queue', 'name=orders.eu')).toMatchObject({ status: 0 });
    expect(await admin('delete', 'exchange', 'name=orders')).toMatchObject({ status: 0 });
    const after = await admin('-f', 'tsv', 'list', 'queues', 'name');
    expect(after.out).not.toContain('orders.eu');
  });

  test('a wrong password is refused as RabbitMQ refuses it', async () => {
    const refused = await run('rabbitmqadmin', [
      '-H',
      '127.0.0.1',
      '-P',
      String(warren.httpPort),
      '-u',
      'guest',
      '-p',
      'wrong',
      'list',
      'queues',
    ]);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toContain('Access refused');
  });

  test('exports definitions to a file and imports them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-rabbitmqadmin-'));
    const file = join(dir, 'definitions.json');
    try {
      expect(await admin('declare', 'vhost', 'name=exported')).toMatchObject({ status: 0 });
      expect(await admin('declare', 'user', 'name=carol', 'password=c4rol', 'tags=monitoring')).toMatchObject(
        {
          status: 0,
        },
      );
      expect(await admin('declare', 'queue', 'name=kept', 'durable=true')).toMatchObject({ status: 0 });
      expect((await admin('export', file)).out).toContain('Exported definitions');
      const exported = JSON.parse(readFileSync(file, 'utf8')) as { users: { name: string }[] };
      expect(exported.users.map((u) => u.name)).toContain('carol');

      expect(await admin('delete', 'vhost', 'name=exported')).toMatchObject({ status: 0 });
      expect(await admin('delete', 'user', 'name=carol')).toMatchObject({ status: 0 });
      expect(await admin('delete', 'queue', 'name=kept')).toMatchObject({ status: 0 });
      expect(await admin('import', file)).toMatchObject({
        status: 0,
        out: expect.stringContaining('Uploaded definitions'),
      });

      expect((await admin('-f', 'tsv', 'list', 'vhosts', 'name')).out.split('\n')).toContain('exported');
      expect((await admin('-f', 'tsv', 'list', 'queues', 'name')).out.split('\n')).toContain('kept');
      // carol's password hash came back with her: she logs in with it.
      const asCarol = await run('rabbitmqadmin', [
        '-H',
        '127.0.0.1',
        '-P',
        String(warren.httpPort),
        '-u',
        'carol',
        '-p',
        'c4rol',
        'show',
        'overview',
      ]);
      expect(asCarol.status).toBe(0);
    } finally {
      await admin('delete', 'queue', 'name=kept');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWith(['nagios-plugins-rabbitmq'], 'the Nagios RabbitMQ checks against Warren', () => {
  const check = (plugin: string, ...args: string[]) =>
    run(`/usr/bin/${plugin}`, [
      '-H',
      '127.0.0.1',
      '--port',
      String(warren.httpPort),
      '-u',
      'guest',
      '-p',
      'guest',
      ...args,
    ]);

  test('check_rabbitmq_overview, check_rabbitmq_aliveness and check_rabbitmq_queue answer OK', async () => {
    const overview = await check('check_rabbitmq_overview');
    expect(overview.out).toMatch(/^RABBITMQ_OVERVIEW OK/);
    expect(overview.status).toBe(0);
    const alive = await check('check_rabbitmq_aliveness');
    expect(alive.out).toMatch(/^RABBITMQ_ALIVENESS OK/);
    expect(alive.status).toBe(0);
    warren.server?.broker.vhosts
      .get('/')
      ?.declareQueue(
        'watched',
        { durable: true, exclusive: false, autoDelete: false, arguments: {} },
        undefined,
      );
    const queue = await check('check_rabbitmq_queue', '--queue', 'watched');
    expect(queue.out).toMatch(/^RABBITMQ_QUEUE OK/);
    expect(queue.status).toBe(0);
  });

  test('check_rabbitmq_queue goes CRITICAL for a queue that does not exist', async () => {
    const missing = await check('check_rabbitmq_queue', '--queue', 'nowhere');
    expect(missing.status).toBe(2);
  });
});
