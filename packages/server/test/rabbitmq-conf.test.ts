import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import {
  CONF_KEYS,
  defaultConfig,
  informationUnits,
  parseRabbitConf,
  SETTINGS,
  type WarrenConfig,
} from '../src';
import { applyRabbitConf, type IgnoredKey } from '../src/rabbitmq-conf';
import { configErrorOf } from './config-error';

const SOURCE = 'config file rabbitmq.conf';

function read(text: string): { config: WarrenConfig; ignored: IgnoredKey[] } {
  const config = defaultConfig();
  const ignored = applyRabbitConf(config, text, SOURCE);
  return { config, ignored };
}

function conf(text: string): WarrenConfig {
  return read(text).config;
}

function confError(text: string): string {
  return configErrorOf(() => read(text));
}

describe('the grammar', () => {
  test('key = value lines, with any spacing, comments and blank lines between them', () => {
    const text = '# a comment\n\n  heartbeat=30\n\t frame_max \t=\t 65536  \n   # indented comment\n\n';
    expect(parseRabbitConf(text, SOURCE)).toEqual([
      { key: 'heartbeat', path: ['heartbeat'], value: '30', line: 3 },
      { key: 'frame_max', path: ['frame_max'], value: '65536', line: 4 },
    ]);
  });

  test('a "#" ends a value, with or without a space before it', () => {
    const entries = parseRabbitConf('default_pass = abc # note\ndefault_user = bob#note\n', SOURCE);
    expect(entries.map((e) => e.value)).toEqual(['abc', 'bob']);
  });

  test("a single-quoted value keeps '#', '=' and its spaces", () => {
    const [entry] = parseRabbitConf("default_pass = ' a#b = c '   # the password\n", SOURCE);
    expect(entry?.value).toBe(' a#b = c ');
  });

  test('a value may hold spaces and "=" in the middle', () => {
    const [entry] = parseRabbitConf('default_pass = correct horse = battery\n', SOURCE);
    expect(entry?.value).toBe('correct horse = battery');
  });

  test('CRLF line ends are taken as LF', () => {
    expect(conf('heartbeat = 15\r\nframe_max = 65536\r\n').limits).toEqual({
      heartbeatSeconds: 15,
      frameMax: 65536,
    });
  });

  test('an escaped dot belongs to the word: default_user_tags.my\\.tag is the tag "my.tag"', () => {
    const [entry] = parseRabbitConf('default_user_tags.my\\.tag = true', SOURCE);
    expect(entry?.path).toEqual(['default_user_tags', 'my.tag']);
    expect(conf('default_user_tags.my\\.tag = true').defaultUser.tags).toEqual(['my.tag']);
  });

  test.each([
    ['heartbeat 30', 2],
    ['heartbeat =', 2],
    ['= 30', 2],
    ['heart beat = 30', 2],
    ['heartbeat.. = 30', 2],
  ])('%j is a syntax error naming its line', (line, number) => {
    expect(confError(`# first line\n${line}\n`)).toBe(
      `${SOURCE}, line ${number}: expected "key = value", got ${JSON.stringify(line)}`,
    );
  });

  test('include is refused: Warren reads one file', () => {
    expect(confError('include /etc/rabbitmq/conf.d/*.conf\n')).toMatch(/line 1: "include" is not supported/);
  });
});

describe('keys', () => {
  test('an unknown key is an error naming the key and its line, as RabbitMQ refuses it', () => {
    expect(confError('heartbeat = 30\n\ncluster_formation.peer_discovery_backend = classic_config\n')).toBe(
      `${SOURCE}, line 3: "cluster_formation.peer_discovery_backend": unknown key`,
    );
  });

  test('a bad value names the key, the line and the value', () => {
    expect(confError('heartbeat = soon')).toBe(
      `${SOURCE}, line 1: "heartbeat": expected a non-negative integer, got "soon"`,
    );
    expect(confError('\nlisteners.tcp.default = 70000')).toBe(
      `${SOURCE}, line 2: "listeners.tcp.default": expected an integer port from 0 to 65535, got "70000"`,
    );
  });

  test('keys Warren knows but ignores are returned with their line and reason, and change nothing', () => {
    const { config, ignored } = read(
      ['management.ssl.certfile = /etc/rabbitmq/mgmt.pem', 'log.console = false'].join('\n'),
    );
    expect(config).toEqual(defaultConfig());
    expect(ignored.map(({ key, line }) => [key, line])).toEqual([
      ['management.ssl.certfile', 1],
      ['log.console', 2],
    ]);
    expect(ignored[0]?.reason).toMatch(/uses the ssl_options/);
  });

  test('prometheus.tcp.* sets the Prometheus listener, as rabbitmq_prometheus reads it', () => {
    const { config, ignored } = read(
      ['prometheus.tcp.port = 15000', 'prometheus.tcp.ip = 127.0.0.1'].join('\n'),
    );
    expect(ignored).toEqual([]);
    expect(config.prometheus).toEqual({ host: '127.0.0.1', port: 15000 });
  });

  test('management.tcp.* and management.ssl.* set the HTTP and HTTPS management listeners', () => {
    const { config, ignored } = read(
      ['management.tcp.port = 15000', 'management.tcp.ip = 127.0.0.1', 'management.ssl.port = 15001'].join(
        '\n',
      ),
    );
    expect(ignored).toEqual([]);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(config.https.port).toBe(15001);
  });

  test('log.console = true is what Warren does anyway: no warning', () => {
    expect(read('log.console = true').ignored).toEqual([]);
  });

  test('the fixture, a rabbitmq.conf as RabbitMQ users write it, is read whole', () => {
    const text = readFileSync(join(__dirname, 'fixtures', 'rabbitmq.conf'), 'utf8');
    const { config, ignored } = read(text);
    expect(ignored).toEqual([]);
    expect(config.amqp).toEqual({ host: '::', port: 5673 });
    expect(config.amqps).toEqual({ host: '::', port: 5671 });
    expect(config.stomp).toEqual({
      host: '127.0.0.1',
      port: 61613,
      defaultUser: { name: 'stomp-guest', password: 'stomp-secret' },
      defaultVhost: '/stomp',
      implicitConnect: true,
      sslCertLogin: true,
      unknownHost: 'default-vhost',
    });
    expect(config.stomps).toEqual({ host: '::', port: 61614 });
    expect(config.ws).toMatchObject({ host: '0.0.0.0', port: 15674, path: '/ws' });
    expect(config.wss).toEqual({
      host: '0.0.0.0',
      port: 15673,
      certFile: '/etc/rabbitmq/tls/web_cert.pem',
      keyFile: '/etc/rabbitmq/tls/web_key.pem',
      caFile: '/etc/rabbitmq/tls/web_ca.pem',
      password: 'web secret',
    });
    expect(config.tls).toEqual({
      caFile: '/etc/rabbitmq/tls/ca_certificate.pem',
      certFile: '/etc/rabbitmq/tls/server_certificate.pem',
      keyFile: '/etc/rabbitmq/tls/server_key.pem',
      password: 'key#pass',
      verifyPeer: true,
      failIfNoPeerCert: true,
      versions: ['tlsv1.3', 'tlsv1.2'],
      ciphers: ['TLS_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
    });
    expect(config.authMechanisms).toEqual(['PLAIN', 'AMQPLAIN', 'EXTERNAL']);
    expect(config.defaultUser).toEqual({
      name: 'admin',
      password: 's3cret',
      vhost: '/prod',
      tags: ['administrator', 'monitoring'],
      permissions: { configure: '.*', read: '.*', write: '^amq\\.gen.*' },
    });
    expect(config.loopbackUsers).toEqual(['local-admin']);
    expect(config.limits).toEqual({
      vmMemoryHighWatermark: 2 * 1024 ** 3,
      heartbeatSeconds: 30,
      frameMax: 262144,
      channelMax: 128,
      maxMessageSize: 16777216,
      consumerTimeoutMs: 900000,
    });
    expect(config.diskFreeLimit).toBe(2_000_000_000);
    expect(config.logLevel).toBe('warn');
    expect(config.log.file).toBe('/var/log/rabbitmq/rabbit.log');
  });
});

describe('listeners', () => {
  test.each([
    ['5672', '::', 5672],
    ['127.0.0.1:5673', '127.0.0.1', 5673],
    ['::1:5674', '::1', 5674],
    ['[::1]:5675', '::1', 5675],
    ['0.0.0.0:0', '0.0.0.0', 0],
  ])('listeners.tcp.default = %s listens on %s port %d', (value, host, port) => {
    expect(conf(`listeners.tcp.default = ${value}`).amqp).toEqual({ host, port });
  });

  test('any listener name is taken (listeners.tcp.local), but only one per protocol', () => {
    expect(conf('listeners.tcp.local = 127.0.0.1:5672').amqp).toEqual({ host: '127.0.0.1', port: 5672 });
    expect(confError('listeners.tcp.local = 127.0.0.1:5672\nlisteners.tcp.other = ::1:5672')).toBe(
      `${SOURCE}, line 2: "listeners.tcp.other": Warren opens one listener per protocol and line 1 already ` +
        'set listeners.tcp.local, got "::1:5672"',
    );
  });

  test('the AMQP and STOMP listeners are counted apart', () => {
    const config = conf('listeners.tcp.default = 5672\nstomp.listeners.tcp.default = 61613');
    expect([config.amqp.port, config.stomp.port]).toEqual([5672, 61613]);
  });

  test('a host without a port is refused', () => {
    expect(confError('listeners.ssl.default = localhost')).toMatch(/expected a port, or host:port/);
  });
});

describe('values', () => {
  test.each([
    ['1000', 1000],
    ['1k', 1000],
    ['1K', 1000],
    ['1kB', 1000],
    ['1KB', 1000],
    ['1Ki', 1024],
    ['1KiB', 1024],
    ['1kiB', 1024],
    ['50MB', 50_000_000],
    ['50M', 50_000_000],
    ['50Mi', 50 * 1024 ** 2],
    ['50MiB', 50 * 1024 ** 2],
    ['2GB', 2e9],
    ['2G', 2e9],
    ['2Gi', 2 * 1024 ** 3],
    ['2GiB', 2 * 1024 ** 3],
    ['1TB', 1e12],
    ['1TiB', 1024 ** 4],
    ['1PB', 1e15],
  ])('%s is %d bytes', (text, bytes) => {
    expect(informationUnits(text)).toBe(bytes);
    expect(conf(`disk_free_limit.absolute = ${text}`).diskFreeLimit).toBe(bytes);
  });

  test.each(['1.5GB', 'GB', '10 GB', '10XB', '-1', '99999999PB'])('%s is not a size', (text) => {
    expect(confError(`disk_free_limit.absolute = ${text}`)).toMatch(/line 1: "disk_free_limit.absolute": /);
  });

  test('disk_free_limit.relative is a multiple of the total memory', () => {
    expect(conf('disk_free_limit.relative = 1.5').diskFreeLimit).toBe(Math.round(1.5 * totalmem()));
  });

  test('the memory watermark: relative is a fraction, absolute is bytes with units', () => {
    expect(conf('vm_memory_high_watermark.relative = 0.6').limits.vmMemoryHighWatermark).toBe(0.6);
    expect(conf('vm_memory_high_watermark.absolute = 512MiB').limits.vmMemoryHighWatermark).toBe(
      512 * 1024 ** 2,
    );
    expect(confError('vm_memory_high_watermark.relative = 2')).toMatch(/expected a fraction of memory/);
    expect(confError('vm_memory_high_watermark.absolute = 1')).toMatch(/expected more than 1 byte/);
  });

  test.each([
    ['debug', 'debug'],
    ['info', 'info'],
    ['notice', 'info'],
    ['warning', 'warn'],
    ['error', 'error'],
    ['critical', 'fatal'],
    ['none', 'silent'],
  ])("log.console.level = %s is pino's %s", (rabbit, pino) => {
    expect(conf(`log.console.level = ${rabbit}`).logLevel).toBe(pino);
    expect(conf(`log.file.level = ${rabbit}`).logLevel).toBe(pino);
  });

  test('log.file names the file; false turns it off again', () => {
    expect(conf('log.file = /var/log/warren.log').log.file).toBe('/var/log/warren.log');
    expect(conf('log.file = /var/log/warren.log\nlog.file = false').log.file).toBeNull();
  });

  test('stomp.max_frame_size and stomp.max_frame_size_unauthenticated set the STOMP frame limits', () => {
    const { limits } = conf('stomp.max_frame_size = 16777216\nstomp.max_frame_size_unauthenticated = 32768');
    expect(limits).toMatchObject({ stompMaxFrameSize: 16777216, stompMaxPreConnectBytes: 32768 });
  });

  test('product.name and product.version set what the broker advertises', () => {
    expect(conf('product.name = RabbitMQ\nproduct.version = 3.13.7').product).toEqual({
      name: 'RabbitMQ',
      version: '3.13.7',
    });
  });

  test('ssl_options.verify takes verify_peer or verify_none', () => {
    expect(conf('ssl_options.verify = verify_peer').tls.verifyPeer).toBe(true);
    expect(conf('ssl_options.verify = verify_none').tls.verifyPeer).toBe(false);
    expect(confError('ssl_options.verify = yes')).toMatch(/expected verify_peer or verify_none, got "yes"/);
  });

  test('numbered lists are ordered by number, not by line', () => {
    const config = conf(
      'auth_mechanisms.10 = EXTERNAL\nauth_mechanisms.2 = PLAIN\nauth_mechanisms.1 = AMQPLAIN',
    );
    expect(config.authMechanisms).toEqual(['AMQPLAIN', 'PLAIN', 'EXTERNAL']);
  });

  test('default_user_tags: the tags set to true replace the default', () => {
    expect(conf('default_user_tags.monitoring = true').defaultUser.tags).toEqual(['monitoring']);
    expect(conf('default_user_tags.administrator = false').defaultUser.tags).toEqual([]);
  });

  test('loopback_users: none lets every user connect from anywhere; <user> = true restricts that user', () => {
    expect(conf('loopback_users = none').loopbackUsers).toEqual([]);
    expect(conf('loopback_users.guest = false').loopbackUsers).toEqual([]);
    expect(conf('loopback_users.guest = true\nloopback_users.ops = true').loopbackUsers).toEqual([
      'guest',
      'ops',
    ]);
    expect(conf('loopback_users.ops = true\nloopback_users = none').loopbackUsers).toEqual([]);
    expect(confError('loopback_users = guest')).toMatch(/expected none/);
  });

  test('booleans are true or false', () => {
    expect(conf('stomp.implicit_connect = true').stomp.implicitConnect).toBe(true);
    expect(confError('stomp.implicit_connect = yes')).toMatch(/expected true or false, got "yes"/);
  });

  test('a later line for the same key wins', () => {
    expect(conf('heartbeat = 10\nheartbeat = 20').limits.heartbeatSeconds).toBe(20);
  });
});

describe('the key table', () => {
  test('every key maps to settings that exist, or says why it is ignored', () => {
    const keys = new Set(SETTINGS.map((s) => s.key));
    for (const { conf: key, settings, ignored } of CONF_KEYS) {
      expect([key, settings.filter((s) => !keys.has(s))]).toEqual([key, []]);
      if (settings.length === 0) expect([key, ignored]).toEqual([key, expect.any(String)]);
    }
  });

  test('no key is listed twice', () => {
    const names = CONF_KEYS.map((k) => k.conf);
    expect(new Set(names).size).toBe(names.length);
  });
});
