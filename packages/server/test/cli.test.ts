import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_PORTS_FREE, pollUntil, portOf, warrenSandbox, type WarrenProcess } from './warren-process';

const sandbox = warrenSandbox('warren-cli-');

function warren(args: readonly string[], env?: Record<string, string>): WarrenProcess {
  return sandbox.spawn(args, env);
}

describe('warren start', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)(
    'creates its data directory, logs "warren started", and on %s stops cleanly with status 0',
    async (signal) => {
      const dataDir = join(sandbox.dir, 'data');
      const proc = warren(['start', ...ALL_PORTS_FREE, '--data-dir', dataDir]);

      const started = await proc.waitForLine('warren started');
      expect(started).toMatchObject({ pid: proc.child.pid, dataDir, version: expect.any(String) });
      expect(existsSync(dataDir)).toBe(true);

      proc.child.kill(signal);
      expect(await proc.exited).toBe(0);
      expect(proc.lines.map((l) => l.msg).slice(-3)).toEqual([
        'shutting down',
        'not accepting new connections',
        'warren stopped',
      ]);
      expect(proc.stderr()).toBe('');
    },
  );

  test('reads its settings from the environment and a config file', async () => {
    const dataDir = join(sandbox.dir, 'from-file');
    const file = join(sandbox.dir, 'warren.json');
    writeFileSync(file, JSON.stringify({ dataDir, logLevel: 'debug' }));
    const proc = warren(['start', ...ALL_PORTS_FREE], { WARREN_CONFIG: file });

    expect(await proc.waitForLine('warren started')).toMatchObject({ dataDir });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  test('a log level of "warn" keeps the started and stopped lines out of the log', async () => {
    const dataDir = join(sandbox.dir, 'data');
    const proc = warren(['start', ...ALL_PORTS_FREE, '--data-dir', dataDir, '--log-level', 'warn']);
    // Nothing is logged at warn, so the data directory is the sign that startup is under way (the signal
    // handlers are installed before it is created).
    await pollUntil(() => existsSync(dataDir));
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.lines).toEqual([]);
  });
});

describe('usage errors exit with status 2 and a message on stderr', () => {
  test.each([
    [
      ['start', '--amqp-port', 'banana'],
      '--amqp-port: expected an integer port from 0 to 65535, got "banana"',
    ],
    [['start', '--log-level', 'loud'], '--log-level: expected one of fatal, error, warn, info'],
    [['start', '--amqp-port'], 'Not enough arguments following: amqp-port'],
    [['start', '--amqp-prot', '1'], 'Unknown argument'],
    [['stop'], 'Unknown argument: stop'],
    [[], 'Name a command'],
  ])('warren %j', async (args, message) => {
    const proc = warren(args);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain(`warren: ${message}`);
    expect(proc.stderr()).toContain('warren --help');
    expect(proc.lines).toEqual([]);
  });

  test('a bad environment variable is named in the message', async () => {
    const proc = warren(['start'], { WARREN_STOMP_PORT: '70000' });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain('environment variable WARREN_STOMP_PORT: expected an integer port');
  });

  test('a config file that is not JSON is named in the message', async () => {
    const file = join(sandbox.dir, 'broken.json');
    writeFileSync(file, '{ amqp: }');
    const proc = warren(['start', '--config', file]);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain(`warren: config file ${file}: not valid JSON`);
  });
});

describe('help and version', () => {
  test('--help lists the start command and every option, and exits 0', async () => {
    const proc = warren(['--help']);
    expect(await proc.exited).toBe(0);
    const help = proc.stdout();
    for (const word of ['start', '--amqp-port', '--stomp-port', '--ws-port', '--http-port', '--data-dir']) {
      expect(help).toContain(word);
    }
    for (const word of ['--log-level', '--config', '--help', '--version', 'WARREN_AMQP_PORT']) {
      expect(help).toContain(word);
    }
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const proc = warren(['--version']);
    expect(await proc.exited).toBe(0);
    expect(proc.stdout().trim()).toBe(pkg.version);
  });
});

describe('warren ctl ping', () => {
  test('succeeds against a running broker and exits 69 once it has stopped', async () => {
    const proc = warren(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')]);
    await proc.waitForLine('warren started');
    const env = { WARREN_AMQP_PORT: String(portOf(proc, 'amqp')) };

    const up = warren(['ctl', '-q', 'ping'], env);
    expect(await up.exited).toBe(0);
    expect(up.stdout()).toBe('Ping succeeded\n');

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    // The probe logged in as nobody: the broker's log has no line for it.
    const aboutClients = (l: { msg?: string; [key: string]: unknown }): boolean =>
      l['client'] !== undefined || /connection (opened|closed)|handshake|login/.test(String(l.msg));
    expect(proc.lines.filter(aboutClients)).toEqual([]);

    const down = warren(['ctl', '-q', 'ping'], env);
    expect(await down.exited).toBe(69);
    expect(down.stderr()).toMatch(/^Error:\nunable to ping Warren at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });
});
