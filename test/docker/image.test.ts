// The Docker image as a user meets it: built from docker/Dockerfile, run with a port mapping, guest logs in
// from outside the container, a message goes through, the HEALTHCHECK reports healthy, `docker stop` ends it
// cleanly. Needs a Docker daemon; without one (as on this project's CI machines) the suite says so and skips.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const IMAGE = 'warren:image-test';
const BUILD_TIMEOUT_MS = 15 * 60_000;

function hasDockerDaemon(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Polls `check` until it returns a value or the deadline passes. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const daemon = hasDockerDaemon();
if (!daemon) process.stderr.write('the Docker image: skipped: no docker daemon\n');
const describeWithDocker = daemon ? describe : describe.skip;

describeWithDocker(`the Docker image${daemon ? '' : ' (skipped: no docker daemon)'}`, () => {
  let container: string | undefined;

  beforeAll(async () => {
    await docker('build', '-f', 'docker/Dockerfile', '-t', IMAGE, '.');
    container = await docker('run', '-d', '-p', '127.0.0.1:0:5672', IMAGE);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (container !== undefined) await docker('rm', '-f', container).catch(() => '');
  });

  test(
    'guest publishes and consumes through the port mapping, the health check passes, docker stop exits 0',
    async () => {
      const id = container as string;
      const mapped = await docker('port', id, '5672/tcp');
      const port = Number(mapped.split('\n')[0]?.split(':').pop());
      const connection = await eventually('an AMQP connection as guest', 60_000, () =>
        amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`),
      );
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('through the mapping'));
      const got = await eventually(
        'the message back',
        10_000,
        async () => (await channel.get(queue)) || undefined,
      );
      expect(got.content.toString()).toBe('through the mapping');
      await connection.close();

      await eventually('a healthy container', 90_000, async () => {
        const health = await docker('inspect', '--format', '{{.State.Health.Status}}', id);
        return health === 'healthy' ? health : undefined;
      });

      // Health checks copied from RabbitMQ setups work: rabbitmq-diagnostics is an alias of warren ctl.
      expect(await docker('exec', id, 'rabbitmq-diagnostics', '-q', 'ping')).toBe('Ping succeeded');

      await docker('stop', id);
      expect(await docker('inspect', '--format', '{{.State.ExitCode}}', id)).toBe('0');
      expect(await docker('logs', id)).toContain('warren stopped');
    },
    5 * 60_000,
  );
});
