import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../src';
import { configErrorOf } from './config-error';

// loadConfig with a rabbitmq.conf, and RabbitMQ's environment variables beside Warren's.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-rabbit-sources-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** An empty environment but what the test passes, so the machine's variables cannot leak in. */
function load(env: Record<string, string>, flags: Record<string, string> = {}) {
  return readConfig({ flags, env, cwd: dir });
}

function loadError(env: Record<string, string>, flags: Record<string, string> = {}): string {
  return configErrorOf(() => load(env, flags));
}

describe('the config file may be a rabbitmq.conf', () => {
  test('by its .conf extension, through --config', () => {
    const file = write('rabbitmq.conf', 'listeners.tcp.default = 5680\ndefault_user = ops\n');
    const { config } = load({}, { config: file });
    expect(config.amqp.port).toBe(5680);
    expect(config.defaultUser.name).toBe('ops');
  });

  test('by its content, whatever the name: a first character that is not "{"', () => {
    const conf = write('broker.cfg', '\n# comment first\nheartbeat = 5\n');
    expect(load({ WARREN_CONFIG: conf }).config.limits.heartbeatSeconds).toBe(5);
    const json = write('broker.settings', '\n  {"limits": {"heartbeatSeconds": 6}}');
    expect(load({ WARREN_CONFIG: json }).config.limits.heartbeatSeconds).toBe(6);
  });

  test('a .json file is JSON even if it does not look like it', () => {
    const file = write('warren.json', 'heartbeat = 5');
    expect(loadError({}, { config: file })).toMatch(/not valid JSON/);
  });

  test('RABBITMQ_CONFIG_FILE names it when neither --config nor WARREN_CONFIG does', () => {
    const rabbit = write('rabbitmq.conf', 'heartbeat = 7');
    const warren = write('warren.json', '{"limits": {"heartbeatSeconds": 8}}');
    expect(load({ RABBITMQ_CONFIG_FILE: rabbit }).config.limits.heartbeatSeconds).toBe(7);
    expect(load({ RABBITMQ_CONFIG_FILE: rabbit, WARREN_CONFIG: warren }).config.limits.heartbeatSeconds).toBe(
      8,
    );
  });

  test('RABBITMQ_CONFIG_FILE may leave off the .conf extension, as RabbitMQ allows', () => {
    write('rabbitmq.conf', 'heartbeat = 9');
    expect(load({ RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq') }).config.limits.heartbeatSeconds).toBe(9);
  });

  test("RabbitMQ's classic rabbitmq.config (Erlang terms) is refused by name", () => {
    const file = write('rabbitmq.config', '[{rabbit, [{tcp_listeners, [5672]}]}].');
    expect(loadError({ RABBITMQ_CONFIG_FILE: file })).toMatch(/classic Erlang-term format is not supported/);
  });

  test('ignored keys come back with the configuration; an unknown key is an error with its line', () => {
    const file = write(
      'rabbitmq.conf',
      'heartbeat = 5\nmanagement.ssl.certfile = /etc/rabbitmq/management.pem\n',
    );
    expect(load({}, { config: file }).ignoredKeys).toEqual([
      { key: 'management.ssl.certfile', line: 2, reason: expect.stringMatching(/ssl_options/) },
    ]);
    const bad = write('bad.conf', 'heartbeat = 5\n\nqueue_master_locator = min-masters\n');
    expect(loadError({}, { config: bad })).toBe(
      `config file ${bad}, line 3: "queue_master_locator": unknown key`,
    );
  });

  test('relative paths in a rabbitmq.conf resolve against the working directory', () => {
    const file = write('rabbitmq.conf', 'ssl_options.certfile = tls/cert.pem\nlog.file = logs/warren.log');
    const { config } = load({}, { config: file });
    expect(config.tls.certFile).toBe(join(dir, 'tls', 'cert.pem'));
    expect(config.log.file).toBe(join(dir, 'logs', 'warren.log'));
  });
});

describe("RabbitMQ's environment variables", () => {
  test('set the AMQP port, the default user, its password and vhost', () => {
    const { config } = load({
      RABBITMQ_NODE_PORT: '5690',
      RABBITMQ_DEFAULT_USER: 'rabbit',
      RABBITMQ_DEFAULT_PASS: 'carrot',
      RABBITMQ_DEFAULT_VHOST: '/burrow',
    });
    expect(config.amqp.port).toBe(5690);
    expect(config.defaultUser).toMatchObject({ name: 'rabbit', password: 'carrot', vhost: '/burrow' });
  });

  test('win over the config file, and lose to WARREN_* variables and flags', () => {
    const file = write('rabbitmq.conf', 'listeners.tcp.default = 5681\ndefault_user = from-file\n');
    const rabbitOnly = load(
      { RABBITMQ_NODE_PORT: '5682', RABBITMQ_DEFAULT_USER: 'from-rabbit' },
      { config: file },
    );
    expect([rabbitOnly.config.amqp.port, rabbitOnly.config.defaultUser.name]).toEqual([5682, 'from-rabbit']);

    const both = load(
      {
        RABBITMQ_NODE_PORT: '5682',
        WARREN_AMQP_PORT: '5683',
        RABBITMQ_DEFAULT_USER: 'from-rabbit',
        WARREN_DEFAULT_USER: 'from-warren',
      },
      { config: file },
    );
    expect([both.config.amqp.port, both.config.defaultUser.name]).toEqual([5683, 'from-warren']);

    const flag = load({ RABBITMQ_NODE_PORT: '5682' }, { config: file, 'amqp-port': '5684' });
    expect(flag.config.amqp.port).toBe(5684);
  });

  test('an empty one counts as unset, as in RabbitMQ', () => {
    expect(load({ RABBITMQ_NODE_PORT: '', RABBITMQ_DEFAULT_USER: '' }).config.defaultUser.name).toBe('guest');
  });

  test('a bad value names the variable', () => {
    expect(loadError({ RABBITMQ_NODE_PORT: 'amqp' })).toBe(
      'environment variable RABBITMQ_NODE_PORT: expected an integer port from 0 to 65535, got "amqp"',
    );
  });
});

describe('credentials from files (_FILE variables, as Docker secrets)', () => {
  test('RABBITMQ_DEFAULT_USER_FILE and RABBITMQ_DEFAULT_PASS_FILE, trailing newline trimmed', () => {
    const user = write('user', 'rabbit\n');
    const pass = write('pass', 'p@ss word\r\n');
    const { config } = load({ RABBITMQ_DEFAULT_USER_FILE: user, RABBITMQ_DEFAULT_PASS_FILE: pass });
    expect(config.defaultUser).toMatchObject({ name: 'rabbit', password: 'p@ss word' });
  });

  test('WARREN_DEFAULT_USER_FILE and WARREN_DEFAULT_PASSWORD_FILE win over the RabbitMQ ones', () => {
    const { config } = load({
      RABBITMQ_DEFAULT_USER: 'rabbit',
      RABBITMQ_DEFAULT_PASS_FILE: write('rabbit-pass', 'carrot\n'),
      WARREN_DEFAULT_USER_FILE: write('warren-user', 'warren\n'),
      WARREN_DEFAULT_PASSWORD_FILE: write('warren-pass', 'tunnel\n'),
    });
    expect(config.defaultUser).toMatchObject({ name: 'warren', password: 'tunnel' });
  });

  test('only the last newline goes: a password may end in spaces or hold newlines', () => {
    const pass = write('pass', 'two\nlines  \n');
    expect(load({ WARREN_DEFAULT_PASSWORD_FILE: pass }).config.defaultUser.password).toBe('two\nlines  ');
  });

  test('a relative path resolves against the working directory', () => {
    write('secret', 'relative\n');
    expect(load({ WARREN_DEFAULT_PASSWORD_FILE: 'secret' }).config.defaultUser.password).toBe('relative');
  });

  test('a variable and its _FILE twin together are refused', () => {
    expect(loadError({ RABBITMQ_DEFAULT_PASS: 'a', RABBITMQ_DEFAULT_PASS_FILE: write('p', 'b') })).toBe(
      'environment variable RABBITMQ_DEFAULT_PASS_FILE: set RABBITMQ_DEFAULT_PASS or RABBITMQ_DEFAULT_PASS_FILE, not both',
    );
  });

  test('a file that cannot be read names the variable and the file', () => {
    expect(loadError({ WARREN_DEFAULT_USER_FILE: 'missing' })).toMatch(
      /^environment variable WARREN_DEFAULT_USER_FILE: cannot read "missing" \(ENOENT/,
    );
  });

  test('an empty file is an empty value, which the setting refuses', () => {
    expect(loadError({ WARREN_DEFAULT_USER_FILE: write('empty', '\n') })).toBe(
      'environment variable WARREN_DEFAULT_USER_FILE: expected a non-empty string, got ""',
    );
  });
});
