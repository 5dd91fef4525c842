import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createServer, connect as connectTcp, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { WebSocket } from 'ws';
import {
  ALL_PORTS_FREE,
  pollUntil,
  portOf,
  warrenSandbox,
  within,
  type LogLine,
  type WarrenProcess,
} from './warren-process';
import { describeWith } from '../../../test/support/requires';

/*
 * What an operator reads: the log lines of a real `warren start` (its stdout, or its log file), the lines it
 * writes on stderr, and --help. Clients are real: amqplib, raw STOMP over TCP, STOMP over `ws`.
 */

const sandbox = warrenSandbox('warren-logging-');

function warren(env: Record<string, string> = {}, args: readonly string[] = []): WarrenProcess {
  return sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data'), ...args], env);
}

async function started(
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<WarrenProcess> {
  const proc = warren(env, args);
  await proc.waitForLine('warren started');
  return proc;
}

async function stop(proc: WarrenProcess): Promise<void> {
  proc.child.kill('SIGTERM');
  expect(await within(proc.exited, 15_000, 'warren exit')).toBe(0);
}

function linesWith(proc: WarrenProcess, msg: string): LogLine[] {
  return proc.lines.filter((l) => l.msg === msg);
}

/** Sends one CONNECT on a raw socket; resolves with the first frame's command line and body once it closes. */
async function stompConnect(port: number, headers: string, host = '127.0.0.1'): Promise<string> {
  const socket = connectTcp({ host, port });
  socket.on('error', () => {});
  let seen = '';
  socket.on('data', (chunk: Buffer) => (seen += chunk.toString('utf8')));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(`CONNECT\naccept-version:1.2\nhost:/\n${headers}\n\n\0`);
  await pollUntil(() => seen.includes('\0'));
  if (seen.startsWith('CONNECTED')) socket.end('DISCONNECT\n\n\0');
  await closed;
  return seen.slice(0, seen.indexOf('\0'));
}

/** The same over STOMP-over-WebSocket; resolves with the first frame once the WebSocket is closed. */
async function webStompConnect(port: number, headers: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['v12.stomp']);
  ws.on('error', () => {});
  let seen = '';
  ws.on('message', (data: Buffer) => (seen += data.toString('utf8')));
  const closed = new Promise((resolve) => ws.once('close', resolve));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(`CONNECT\naccept-version:1.2\nhost:/\n${headers}\n\n\0`);
  await pollUntil(() => seen.includes('\0'));
  if (seen.startsWith('CONNECTED')) ws.send('DISCONNECT\n\n\0');
  await closed;
  return seen.slice(0, seen.indexOf('\0'));
}

/** The error amqplib rejects a refused connect with. */
async function amqpRefusal(url: string): Promise<Error> {
  return amqp.connect(url).then(
    async (conn) => {
      await conn.close();
      throw new Error(`${url} was not refused`);
    },
    (err: Error) => err,
  );
}

describe('connection lines', () => {
  test('AMQP, STOMP and Web-STOMP log opened and closed at info with the same fields', async () => {
    const proc = await started();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    await conn.close();
    expect(await stompConnect(portOf(proc, 'stomp'), 'login:guest\npasscode:guest')).toMatch(/^CONNECTED/);
    expect(await webStompConnect(portOf(proc, 'ws'), 'login:guest\npasscode:guest')).toMatch(/^CONNECTED/);
    await pollUntil(() => linesWith(proc, 'connection closed by client').length === 3);

    const fields = (protocol: string): object => ({
      level: 30,
      protocol,
      client: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1:\d+$/),
      connection: expect.any(Number),
    });
    expect(linesWith(proc, 'connection opened')).toEqual([
      expect.objectContaining({ ...fields('amqp'), user: 'guest', vhost: '/' }),
      expect.objectContaining({ ...fields('stomp'), user: 'guest', vhost: '/', version: '1.2' }),
      expect.objectContaining({ ...fields('stomp-ws'), user: 'guest', vhost: '/', version: '1.2' }),
    ]);
    expect(linesWith(proc, 'connection closed by client')).toEqual([
      expect.objectContaining(fields('amqp')),
      expect.objectContaining(fields('stomp')),
      expect.objectContaining(fields('stomp-ws')),
    ]);
    await stop(proc);
  });

  test("the AMQP client's connection_name is on every line of its connection", async () => {
    const proc = await started();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`, {
      clientProperties: { connection_name: 'billing-worker' },
    });
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    // A channel error on this connection: its warn line must name the connection too.
    await ch.checkQueue('no-such-queue').catch(() => {});
    await conn.close();
    await pollUntil(() => linesWith(proc, 'connection closed by client').length === 1);

    const own = proc.lines.filter((l) => l['protocol'] === 'amqp' && l['client'] !== undefined);
    expect(own.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['connection opened', 'connection closed by client']),
    );
    expect(own.every((l) => l['connectionName'] === 'billing-worker')).toBe(true);
    await stop(proc);
  });
});

describe('refused logins: the client hears the generic refusal, the log says why', () => {
  const GENERIC_AMQP =
    'Login was refused using authentication mechanism PLAIN. For details see the broker logfile.';

  test.each([
    ['unknown user', 'nobody:guest', '/', {}],
    ['bad password', 'guest:wrong', '/', {}],
    ['vhost not found', 'guest:guest', 'nope', {}],
    ['no access to vhost', 'guest:guest', '/', { WARREN_DEFAULT_VHOST: 'prod' }],
  ])('AMQP: %s', async (reason, credentials, vhost, env) => {
    const proc = await started(env);
    const url = `amqp://${credentials}@127.0.0.1:${portOf(proc, 'amqp')}/${encodeURIComponent(vhost)}`;
    const err = await amqpRefusal(url);
    if (reason === 'unknown user' || reason === 'bad password') expect(err.message).toContain(GENERIC_AMQP);
    await pollUntil(() => linesWith(proc, 'login refused').length === 1);
    expect(linesWith(proc, 'login refused')[0]).toMatchObject({
      level: 40,
      protocol: 'amqp',
      user: credentials.split(':')[0],
      reason,
    });
    await stop(proc);
  });

  test('STOMP and Web-STOMP: an unknown user and a bad password get the same ERROR', async () => {
    const proc = await started();
    const stomp = portOf(proc, 'stomp');
    const unknown = await stompConnect(stomp, 'login:alice\npasscode:guest');
    const badPassword = await stompConnect(stomp, 'login:guest\npasscode:wrong');
    const overWs = await webStompConnect(portOf(proc, 'ws'), 'login:guest\npasscode:wrong');
    expect(badPassword).toMatch(/^ERROR\n(.*\n)*message:Bad CONNECT\n/);
    // The same frame but for the user name the client itself sent (of the same length, as content-length counts).
    expect(unknown.replace("'alice'", "'guest'")).toBe(badPassword);
    expect(overWs).toBe(badPassword);

    await pollUntil(() => linesWith(proc, 'login refused').length === 3);
    expect(linesWith(proc, 'login refused')).toEqual([
      expect.objectContaining({ protocol: 'stomp', user: 'alice', reason: 'unknown user' }),
      expect.objectContaining({ protocol: 'stomp', user: 'guest', reason: 'bad password' }),
      expect.objectContaining({ protocol: 'stomp-ws', user: 'guest', reason: 'bad password' }),
    ]);
    await stop(proc);
  });

  // guest may log in from loopback only; a non-loopback address of this machine plays the remote client.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  (external === undefined ? test.skip : test)(
    'AMQP and STOMP: guest from a non-loopback address is logged as loopback-only',
    async () => {
      const proc = await started();
      await amqpRefusal(`amqp://guest:guest@${external}:${portOf(proc, 'amqp')}`);
      await stompConnect(portOf(proc, 'stomp'), 'login:guest\npasscode:guest', external);
      await pollUntil(() => linesWith(proc, 'login refused').length === 2);
      expect(linesWith(proc, 'login refused').map((l) => [l['protocol'], l['reason']])).toEqual([
        ['amqp', 'loopback-only user from a remote address'],
        ['stomp', 'loopback-only user from a remote address'],
      ]);
      await stop(proc);
    },
  );
});

describe('log format and file', () => {
  test('--log-format pretty prints lines a person reads, not JSON', async () => {
    const proc = warren({}, ['--log-format', 'pretty']);
    await pollUntil(() => proc.stdout().includes('warren started'));
    await stop(proc);
    const started =
      proc
        .stdout()
        .split('\n')
        .find((l) => l.includes('warren started')) ?? '';
    // "[2025-01-31 12:00:00.000] INFO (4242): warren started {"version":...}": pino-pretty puts the pid in the
    // brackets and the other fields after the message, on the same line.
    expect(started).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): warren started \{.*\}$/,
    );
    expect(started).toContain(`"dataDir":${JSON.stringify(join(sandbox.dir, 'data'))}`);
    expect(proc.lines).toEqual([]);
    expect(proc.stdout()).toContain('warren stopped');
  });

  // script(1) gives warren a terminal for its stdout.
  describeWith(['bsdutils'], 'on a terminal', () => {
    test('auto, the default, is pretty and coloured when stdout is a terminal', async () => {
      // script runs its command line under a new pseudo-terminal and copies what it prints to this pipe.
      const args = ['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')];
      const proc = sandbox.spawn(args, {}, ['sh', '-c', 'exec script -qefc "$*" /dev/null', 'sh']);
      try {
        await pollUntil(() => proc.stdout().includes('warren started'));
        // INFO in green: the ANSI colour codes pino-pretty writes to a terminal.
        const greenInfo = '\u001b[32mINFO\u001b[39m';
        const line =
          proc
            .stdout()
            .split('\n')
            .find((l) => l.includes('warren started')) ?? '';
        expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] /);
        expect(line).toContain(greenInfo);
        expect(proc.lines).toEqual([]);
      } finally {
        // warren runs under script's own terminal session, out of reach of the sandbox's kill of script: it is
        // stopped by the pid it wrote in its data directory's lock file.
        const lock = join(sandbox.dir, 'data', 'journal', 'LOCK');
        if (existsSync(lock)) process.kill(Number.parseInt(readFileSync(lock, 'utf8'), 10), 'SIGTERM');
        await proc.exited;
      }
    });
  });

  test('log.file gets the JSON lines too, and SIGUSR1 or SIGHUP reopen it after logrotate moved it', async () => {
    const file = join(sandbox.dir, 'logs', 'warren.log');
    const proc = await started({ WARREN_LOG_FILE: file });
    const messages = (path: string): string[] =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as LogLine).msg ?? '');
    expect(messages(file)).toContain('warren started');

    renameSync(file, `${file}.1`);
    proc.child.kill('SIGUSR1');
    await pollUntil(() => existsSync(file));
    renameSync(file, `${file}.2`);
    proc.child.kill('SIGHUP');
    await pollUntil(() => existsSync(file));
    await stop(proc);

    expect(messages(`${file}.1`).at(-1)).toBe('warren started');
    expect(messages(`${file}.2`)).toEqual(['log file reopened']);
    expect(messages(file)).toEqual([
      'log file reopened',
      'shutting down',
      'not accepting new connections',
      'warren stopped',
    ]);
    expect(linesWith(proc, 'log file reopened').map((l) => l['signal'])).toEqual(['SIGUSR1', 'SIGHUP']);
  });
});

describe('a port already in use', () => {
  let squatter: Server;
  let taken: number;
  beforeEach(async () => {
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    taken = (squatter.address() as { port: number }).port;
  });
  afterEach(() => new Promise((resolve) => squatter.close(resolve)));

  test.each([
    ['amqp', 'AMQP 0-9-1'],
    ['stomp', 'STOMP'],
    ['ws', 'STOMP over WebSocket'],
  ])('%s: one line on stderr names the protocol and the port, and warren exits 1', async (name, protocol) => {
    const env = { [`WARREN_${name.toUpperCase()}_HOST`]: '127.0.0.1' };
    const proc = warren(env, [`--${name}-port`, String(taken)]);
    expect(await within(proc.exited, 15_000, 'warren exit')).toBe(1);
    expect(proc.stderr()).toBe(
      `warren: cannot listen for ${protocol} on port ${taken}: address already in use (EADDRINUSE)\n`,
    );
    expect(proc.lines.at(-1)).toMatchObject({ level: 60, protocol, port: taken, code: 'EADDRINUSE' });
  });
});

describe('--help', () => {
  test('shows the default of each option and examples', async () => {
    const proc = sandbox.spawn(['--help']);
    expect(await proc.exited).toBe(0);
    const help = proc.stdout().replace(/\s+/g, ' ');
    for (const shown of [
      '--amqp-port AMQP 0-9-1 port (0 picks a free one) [env WARREN_AMQP_PORT] [string] [default: 5672]',
      '[env WARREN_STOMP_PORT] [string] [default: 61613]',
      '[env WARREN_AMQPS_PORT] [string] [default: off]',
      '[env WARREN_DATA_DIR] [string] [default: ./data]',
      '[env WARREN_LOG_FORMAT] [string] [default: auto]',
    ]) {
      expect(help).toContain(shown);
    }
    expect(help).toContain('Examples: warren start ');
    expect(help).toContain('warren start --amqp-port 5673 --data-dir /var/lib/warren');
  });
});
