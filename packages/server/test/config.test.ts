import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, loadConfig, LOG_LEVELS } from '../src';
import { configErrorOf } from './config-error';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfigFile(contents: unknown, name = 'warren.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return file;
}

/** Loads with an empty environment, so variables set on the machine running the tests cannot leak in. */
function load(flags: Record<string, string> = {}, env: Record<string, string> = {}) {
  return loadConfig({ flags, env, cwd: dir });
}

function loadError(flags: Record<string, string> = {}, env: Record<string, string> = {}): string {
  return configErrorOf(() => load(flags, env));
}

describe('precedence', () => {
  test('with no file, variables or flags, the defaults apply and dataDir is made absolute', () => {
    expect(load()).toEqual({ ...defaultConfig(), dataDir: join(dir, 'data') });
  });

  test('the defaults listen on every interface on the RabbitMQ ports', () => {
    const config = defaultConfig();
    expect(config.amqp).toEqual({ host: '::', port: 5672 });
    expect(config.stomp).toMatchObject({ host: '::', port: 61613 });
    expect(config.amqps.port).toBeNull();
    expect(config.stomps.port).toBeNull();
    expect(config.wss.port).toBeNull();
    expect(config.ws).toEqual({
      host: '::',
      port: 15674,
      path: '/ws',
      binaryFrames: false,
      compression: false,
      allowedOrigins: [],
      pingKeepalive: true,
    });
    expect(config.http).toEqual({ host: '::', port: 15672 });
    expect(config.defaultUser).toMatchObject({ name: 'guest', password: 'guest', vhost: '/' });
    expect(config.loopbackUsers).toEqual(['guest']);
  });

  test("the default shutdown deadline ends before Docker's SIGKILL, 10 s after its SIGTERM", () => {
    expect(defaultConfig().shutdownTimeoutMs).toBe(8000);
  });

  test('warren start warms up by default', () => {
    expect(defaultConfig().warmUp).toBe(true);
  });

  test('the config file overrides defaults and leaves the rest alone', () => {
    const file = writeConfigFile({ amqp: { port: 5673 }, limits: { frameMax: 65536 }, logLevel: 'debug' });
    const config = load({ config: file });
    expect(config.amqp).toEqual({ host: '::', port: 5673 });
    expect(config.stomp.port).toBe(61613);
    expect(config.limits).toEqual({ frameMax: 65536 });
    expect(config.logLevel).toBe('debug');
  });

  test('environment variables override the config file', () => {
    const file = writeConfigFile({ amqp: { port: 5673 }, stomp: { port: 61614 } });
    const config = load({ config: file }, { WARREN_AMQP_PORT: '5674' });
    expect(config.amqp.port).toBe(5674);
    expect(config.stomp.port).toBe(61614);
  });

  test('flags override environment variables', () => {
    const file = writeConfigFile({ amqp: { port: 5673 } });
    const config = load({ config: file, 'amqp-port': '5675' }, { WARREN_AMQP_PORT: '5674' });
    expect(config.amqp.port).toBe(5675);
  });

  test('WARREN_CONFIG names the config file when --config is absent', () => {
    const file = writeConfigFile({ http: { port: 8080 } });
    expect(load({}, { WARREN_CONFIG: file }).http.port).toBe(8080);
  });

  test('--config wins over WARREN_CONFIG', () => {
    const fromEnv = writeConfigFile({ http: { port: 8080 } }, 'env.json');
    const fromFlag = writeConfigFile({ http: { port: 8081 } }, 'flag.json');
    expect(load({ config: fromFlag }, { WARREN_CONFIG: fromEnv }).http.port).toBe(8081);
  });

  test('a relative config file and data directory resolve against the working directory', () => {
    writeConfigFile({ dataDir: 'state' });
    expect(load({ config: 'warren.json' }).dataDir).toBe(join(dir, 'state'));
    expect(load({ 'data-dir': '/var/lib/warren' }).dataDir).toBe('/var/lib/warren');
  });

  test('every setting can come from an environment variable', () => {
    const config = load(
      {},
      {
        WARREN_AMQP_HOST: '127.0.0.1',
        WARREN_STOMP_PORT: '0',
        WARREN_WS_PORT: '15675',
        WARREN_WS_PATH: '/stomp',
        WARREN_WS_BINARY_FRAMES: 'true',
        WARREN_WS_COMPRESSION: 'true',
        WARREN_WS_PING_KEEPALIVE: 'false',
        WARREN_WS_ALLOWED_ORIGINS: 'https://app.example.com,https://admin.example.com',
        WARREN_HTTP_PORT: '65535',
        WARREN_PROMETHEUS_PORT: '15693',
        WARREN_PROMETHEUS_HOST: '127.0.0.1',
        WARREN_DATA_DIR: 'd',
        WARREN_LOG_LEVEL: 'warn',
        WARREN_DEFAULT_USER: 'admin',
        WARREN_DEFAULT_PASSWORD: 's3cret',
        WARREN_LOOPBACK_USERS: 'admin, ops',
        WARREN_LIMITS_MAX_MESSAGE_SIZE: '1048576',
        WARREN_DISK_FREE_LIMIT: '2000000000',
        WARREN_SHUTDOWN_TIMEOUT_MS: '30000',
        WARREN_WARM_UP: 'false',
        WARREN_AMQPS_PORT: '5671',
        WARREN_AMQPS_HOST: '127.0.0.1',
        WARREN_STOMPS_PORT: '61614',
        WARREN_STOMPS_HOST: '::1',
        WARREN_WSS_PORT: '15673',
        WARREN_WSS_HOST: '0.0.0.0',
        WARREN_HTTPS_PORT: '15671',
        WARREN_HTTPS_HOST: '::1',
        WARREN_WSS_CERT_FILE: 'ws.pem',
        WARREN_WSS_KEY_FILE: '/etc/ws.key',
        WARREN_WSS_CA_FILE: 'ws-ca.pem',
        WARREN_WSS_KEY_PASSWORD: 'wspass',
        WARREN_TLS_CERT_FILE: 'server.pem',
        WARREN_TLS_KEY_FILE: 'server.key',
        WARREN_TLS_CA_FILE: '/etc/ca.pem',
        WARREN_TLS_KEY_PASSWORD: 'pass',
        WARREN_TLS_VERIFY_PEER: 'true',
        WARREN_TLS_FAIL_IF_NO_PEER_CERT: 'true',
        WARREN_TLS_VERSIONS: 'tlsv1.2,tlsv1.3',
        WARREN_TLS_CIPHERS: 'ECDHE-RSA-AES128-GCM-SHA256',
        WARREN_AUTH_MECHANISMS: 'EXTERNAL,PLAIN',
        WARREN_STOMP_DEFAULT_USER: 'stomper',
        WARREN_STOMP_DEFAULT_PASSWORD: 'pw',
        WARREN_STOMP_DEFAULT_VHOST: '/stomp',
        WARREN_STOMP_IMPLICIT_CONNECT: 'true',
        WARREN_STOMP_UNKNOWN_HOST: 'refuse',
        WARREN_STOMP_SSL_CERT_LOGIN: 'true',
        WARREN_LOG_FORMAT: 'pretty',
        WARREN_LOG_FILE: 'warren.log',
        WARREN_DEFAULT_VHOST: '/prod',
        WARREN_DEFAULT_USER_TAGS: 'administrator,monitoring',
        WARREN_DEFAULT_PERMISSIONS_CONFIGURE: '^$',
        WARREN_DEFAULT_PERMISSIONS_WRITE: 'amq\\..*',
        WARREN_DEFAULT_PERMISSIONS_READ: '.*',
        WARREN_LOAD_DEFINITIONS: 'definitions.json',
        WARREN_PRODUCT_NAME: 'RabbitMQ',
        WARREN_PRODUCT_VERSION: '3.13.7',
        WARREN_NATS_SERVERS: 'nats://n1:4222, n2:4223',
        WARREN_NODE_NAME: 'warren-a',
        WARREN_CLUSTER_REPLICAS: '5',
        WARREN_CLUSTER_ACK_WAIT_MS: '15000',
        WARREN_NATS_USER: 'warren',
        WARREN_NATS_PASSWORD: 'nats-secret',
        WARREN_NATS_TOKEN: 't0ken',
        WARREN_NATS_CA_FILE: 'nats-ca.pem',
        WARREN_NATS_CERT_FILE: '/etc/nats/node.pem',
        WARREN_NATS_KEY_FILE: 'node.key',
      },
    );
    expect(config).toEqual({
      amqp: { host: '127.0.0.1', port: 5672 },
      amqps: { host: '127.0.0.1', port: 5671 },
      stomp: {
        host: '::',
        port: 0,
        defaultUser: { name: 'stomper', password: 'pw' },
        defaultVhost: '/stomp',
        implicitConnect: true,
        sslCertLogin: true,
        unknownHost: 'refuse',
      },
      stomps: { host: '::1', port: 61614 },
      wss: {
        host: '0.0.0.0',
        port: 15673,
        certFile: join(dir, 'ws.pem'),
        keyFile: '/etc/ws.key',
        caFile: join(dir, 'ws-ca.pem'),
        password: 'wspass',
      },
      tls: {
        certFile: join(dir, 'server.pem'),
        keyFile: join(dir, 'server.key'),
        caFile: '/etc/ca.pem',
        password: 'pass',
        verifyPeer: true,
        failIfNoPeerCert: true,
        versions: ['tlsv1.2', 'tlsv1.3'],
        ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'],
      },
      authMechanisms: ['EXTERNAL', 'PLAIN'],
      log: { format: 'pretty', file: join(dir, 'warren.log') },
      ws: {
        host: '::',
        port: 15675,
        path: '/stomp',
        binaryFrames: true,
        compression: true,
        allowedOrigins: ['https://app.example.com', 'https://admin.example.com'],
        pingKeepalive: false,
      },
      http: { host: '::', port: 65535 },
      https: { host: '::1', port: 15671 },
      prometheus: { host: '127.0.0.1', port: 15693 },
      dataDir: join(dir, 'd'),
      logLevel: 'warn',
      limits: { maxMessageSize: 1048576 },
      defaultUser: {
        name: 'admin',
        password: 's3cret',
        vhost: '/prod',
        tags: ['administrator', 'monitoring'],
        permissions: { configure: '^$', write: 'amq\\..*', read: '.*' },
      },
      loopbackUsers: ['admin', 'ops'],
      diskFreeLimit: 2_000_000_000,
      shutdownTimeoutMs: 30_000,
      warmUp: false,
      loadDefinitions: join(dir, 'definitions.json'),
      product: { name: 'RabbitMQ', version: '3.13.7' },
      cluster: {
        natsServers: ['nats://n1:4222', 'nats://n2:4223'],
        nodeName: 'warren-a',
        replicas: 5,
        ackWaitMs: 15_000,
        natsUser: 'warren',
        natsPassword: 'nats-secret',
        natsToken: 't0ken',
        natsCaFile: join(dir, 'nats-ca.pem'),
        natsCertFile: '/etc/nats/node.pem',
        natsKeyFile: join(dir, 'node.key'),
      },
    });
  });

  test('cluster mode is off until NATS servers are named, by flag, variable or file', () => {
    expect(load({}).cluster.natsServers).toEqual([]);
    expect(load({ 'nats-servers': 'nats://10.0.0.1:4222,tls://10.0.0.2:4222' }).cluster.natsServers).toEqual([
      'nats://10.0.0.1:4222',
      'tls://10.0.0.2:4222',
    ]);
    expect(load({ 'node-name': 'b' }).cluster.nodeName).toBe('b');
    const file = writeConfigFile({ cluster: { natsServers: ['localhost:4222'], replicas: 1 } });
    expect(load({ config: file }).cluster).toMatchObject({
      natsServers: ['nats://localhost:4222'],
      replicas: 1,
    });
    expect(loadError({}, { WARREN_NATS_SERVERS: 'http://n1:4222' })).toMatch(
      /WARREN_NATS_SERVERS.*expected NATS server URLs/,
    );
    expect(loadError({}, { WARREN_CLUSTER_REPLICAS: '0' })).toMatch(
      /WARREN_CLUSTER_REPLICAS.*positive integer/,
    );
  });

  test('WebSocket switches take only true or false, in the file as JSON booleans', () => {
    expect(loadError({}, { WARREN_WS_BINARY_FRAMES: 'yes' })).toMatch(
      /WARREN_WS_BINARY_FRAMES.*expected true or false/,
    );
    const file = writeConfigFile({ ws: { compression: 'true' } });
    expect(loadError({ config: file })).toMatch(/ws\.compression.*expected true or false/);
    expect(load({ config: writeConfigFile({ ws: { binaryFrames: true } }) }).ws.binaryFrames).toBe(true);
  });

  test('a TLS listener is off until given a port, and "off" turns it off again', () => {
    expect(load({ 'amqps-port': '5671' }).amqps.port).toBe(5671);
    expect(load({ 'amqps-port': 'off' }, { WARREN_AMQPS_PORT: '5671' }).amqps.port).toBeNull();
    expect(load({ config: writeConfigFile({ stomps: { port: null } }) }).stomps.port).toBeNull();
    expect(loadError({}, { WARREN_WSS_PORT: 'on' })).toMatch(/WARREN_WSS_PORT.*or "off"/);
  });

  test('an empty WARREN_LOOPBACK_USERS lets every user connect from anywhere', () => {
    expect(load({}, { WARREN_LOOPBACK_USERS: '' }).loopbackUsers).toEqual([]);
  });

  test('each call returns a fresh object, so changing one config never changes the defaults', () => {
    load().amqp.port = 1;
    expect(load().amqp.port).toBe(5672);
  });
});

describe('validation errors name their source', () => {
  const PORT = 'expected an integer port from 0 to 65535';

  test.each([
    [{ 'amqp-port': 'banana' }, `--amqp-port: ${PORT}, got "banana"`],
    [{ 'stomp-port': '65536' }, `--stomp-port: ${PORT}, got "65536"`],
    [{ 'ws-port': '-1' }, `--ws-port: ${PORT}, got "-1"`],
    [{ 'http-port': '0x50' }, `--http-port: ${PORT}, got "0x50"`],
    [{ 'http-port': '' }, `--http-port: ${PORT}, got ""`],
    [{ 'log-level': 'loud' }, `--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "loud"`],
    [{ 'data-dir': '' }, '--data-dir: expected a non-empty string, got ""'],
    [{ config: '' }, '--config: expected a config file path, got ""'],
  ])('flags %j', (flags, message) => {
    expect(loadError(flags)).toBe(message);
  });

  test.each([
    [{ WARREN_AMQP_PORT: '5672.5' }, `environment variable WARREN_AMQP_PORT: ${PORT}, got "5672.5"`],
    [{ WARREN_STOMP_PORT: ' 61613' }, `environment variable WARREN_STOMP_PORT: ${PORT}, got " 61613"`],
    [{ WARREN_LOG_LEVEL: 'INFO' }, `environment variable WARREN_LOG_LEVEL: expected one of`],
    [
      { WARREN_WS_PATH: 'ws' },
      'environment variable WARREN_WS_PATH: expected a path starting with "/", got "ws"',
    ],
    [
      { WARREN_LIMITS_FRAME_MAX: '-5' },
      'environment variable WARREN_LIMITS_FRAME_MAX: expected a non-negative',
    ],
    [
      { WARREN_SHUTDOWN_TIMEOUT_MS: '0' },
      'environment variable WARREN_SHUTDOWN_TIMEOUT_MS: expected a positive integer, got "0"',
    ],
    [
      { WARREN_LOOPBACK_USERS: 'a,,b' },
      'environment variable WARREN_LOOPBACK_USERS: expected a non-empty string',
    ],
  ])('environment %j', (env, message) => {
    expect(loadError({}, env)).toContain(message);
  });

  test.each([
    [{ amqp: { port: '5672' } }, `"amqp.port": ${PORT}, got "5672"`],
    [{ amqp: { port: 1.5 } }, `"amqp.port": ${PORT}, got 1.5`],
    [{ amqp: { prot: 5672 } }, 'unknown key "amqp.prot"'],
    [{ amqpPort: 5672 }, 'unknown key "amqpPort"'],
    [{ 'amqp.port': 5672 }, 'unknown key "amqp.port"'],
    [{ limits: { frameMaxx: 1 } }, 'unknown key "limits.frameMaxx"'],
    [{ amqp: 5672 }, '"amqp" must be a JSON object, got 5672'],
    [[], 'the top level must be a JSON object, got []'],
    [{ logLevel: 3 }, '"logLevel": expected one of fatal'],
    [{ loopbackUsers: 'guest' }, '"loopbackUsers": expected an array of non-empty strings, got "guest"'],
    [{ defaultUser: { name: '' } }, '"defaultUser.name": expected a non-empty string, got ""'],
    [{ limits: { frameMax: 'big' } }, '"limits.frameMax": expected a non-negative integer, got "big"'],
    [{ shutdownTimeoutMs: 2.5 }, '"shutdownTimeoutMs": expected a positive integer, got 2.5'],
  ])('config file %j', (contents, message) => {
    const file = writeConfigFile(contents);
    expect(loadError({ config: file })).toContain(`config file ${file}: ${message}`);
  });

  test('a config file that is not JSON', () => {
    const file = writeConfigFile('{ "amqp": { port: 5672 } }');
    expect(loadError({ config: file })).toMatch(new RegExp(`^config file ${file}: not valid JSON \\(.+\\)$`));
  });

  test('a config file that does not exist', () => {
    const file = join(dir, 'missing.json');
    expect(loadError({}, { WARREN_CONFIG: file })).toMatch(
      new RegExp(
        `^config file ${file} \\(from environment variable WARREN_CONFIG\\): cannot read it \\(ENOENT.*\\)$`,
      ),
    );
  });

  test('a long bad value is cut short in the message', () => {
    const message = loadError({ 'log-level': 'x'.repeat(500) });
    expect(message.length).toBeLessThan(150);
    expect(message).toMatch(/\.\.\.$/);
  });
});
