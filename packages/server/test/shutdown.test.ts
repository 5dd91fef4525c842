import { connect as connectTcp, type Socket } from 'node:net';
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

/*
 * SIGTERM ends warren within shutdownTimeoutMs whatever the store is doing. The stuck store is a disk whose
 * fsync never returns, played by a test-only preload (fixtures/stall-fsync.js) that the broker knows nothing
 * about.
 */

const STALL = { NODE_OPTIONS: `--require ${join(__dirname, 'fixtures', 'stall-fsync.js')}` };
/** Far above any deadline a test sets: reaching it means warren did not exit on its own. */
const EXIT_WITHIN_MS = 15_000;

const sandbox = warrenSandbox('warren-shutdown-');

function warren(env: Record<string, string> = {}): WarrenProcess {
  return sandbox.spawn(['start', ...ALL_PORTS_FREE, '--data-dir', join(sandbox.dir, 'data')], env);
}

/** Sends SIGTERM and resolves with the exit code and the milliseconds from the signal to the exit. */
async function terminate(proc: WarrenProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  proc.child.kill('SIGTERM');
  const code = await within(proc.exited, EXIT_WITHIN_MS, 'warren exit after SIGTERM');
  return { code, ms: Date.now() - t0 };
}

function lastLine(proc: WarrenProcess): LogLine | undefined {
  return proc.lines[proc.lines.length - 1];
}

const CONNECT_FRAME = 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0';

/** A STOMP frame as a client reads it: the command and its headers. */
interface SeenFrame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a STOMP client received into frames (no escapes or content-length needed for these). */
function framesIn(text: string): SeenFrame[] {
  return text
    .split('\0')
    .map((raw) => raw.replace(/^\n+/, ''))
    .filter((raw) => raw !== '')
    .map((raw) => {
      const [head = '', body = ''] = raw.split('\n\n');
      const [command = '', ...lines] = head.split('\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
      );
      return { command, headers, body };
    });
}

/** A STOMP client past CONNECTED on a raw socket; `closed` has every frame it read until the socket closed. */
async function stompClient(port: number): Promise<{ closed: Promise<SeenFrame[]> }> {
  const socket: Socket = connectTcp({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  let seen = '';
  socket.on('data', (chunk: Buffer) => (seen += chunk.toString('utf8')));
  const closed = new Promise<SeenFrame[]>((resolve) => socket.once('close', () => resolve(framesIn(seen))));
  socket.write(CONNECT_FRAME);
  await pollUntil(() => seen.includes('\0') || socket.destroyed);
  if (!seen.startsWith('CONNECTED\n')) throw new Error(`no CONNECTED: ${seen}`);
  return { closed };
}

/** A Web-STOMP client past CONNECTED; `closed` has the frames it read and the WebSocket close code. */
async function webStompClient(
  port: number,
): Promise<{ closed: Promise<{ frames: SeenFrame[]; code: number }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['v12.stomp']);
  ws.on('error', () => {});
  let seen = '';
  ws.on('message', (data: Buffer) => (seen += data.toString('utf8')));
  const closed = new Promise<{ frames: SeenFrame[]; code: number }>((resolve) =>
    ws.once('close', (code: number) => resolve({ frames: framesIn(seen), code })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('WebSocket closed before it opened')));
  });
  ws.send(CONNECT_FRAME);
  await pollUntil(() => seen.includes('\0'));
  if (!seen.startsWith('CONNECTED\n')) throw new Error(`no CONNECTED: ${seen}`);
  return { closed };
}

/** What RabbitMQ's STOMP adapter sends when the broker stops: the AMQP 320 as an ERROR frame. */
const SHUTDOWN_ERROR = {
  command: 'ERROR',
  headers: expect.objectContaining({ message: 'connection_forced' }),
  body: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
};

describe('SIGTERM', () => {
  test('tells every client why it goes (AMQP 320, STOMP ERROR connection_forced, WebSocket 1001) and exits 0', async () => {
    const proc = warren();
    await proc.waitForLine('warren started');
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    const amqpClosed = new Promise<unknown>((resolve) => conn.on('close', resolve));
    conn.on('error', () => {});
    const stomp = await stompClient(portOf(proc, 'stomp'));
    const webStomp = await webStompClient(portOf(proc, 'ws'));

    const { code } = await terminate(proc);
    expect(code).toBe(0);
    expect(await amqpClosed).toMatchObject({ code: 320 });
    expect((await stomp.closed).slice(1)).toEqual([SHUTDOWN_ERROR]);
    expect(await webStomp.closed).toEqual({ frames: [expect.anything(), SHUTDOWN_ERROR], code: 1001 });
    expect(lastLine(proc)).toMatchObject({ msg: 'warren stopped' });
  });

  test('stops accepting on every listener before it closes the first connection', async () => {
    const proc = warren();
    await proc.waitForLine('warren started');
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    conn.on('error', () => {});
    const stomp = await stompClient(portOf(proc, 'stomp'));

    expect((await terminate(proc)).code).toBe(0);
    await stomp.closed;
    const msgs = proc.lines.map((l) => l.msg);
    const stopped = msgs.indexOf('not accepting new connections');
    const firstClose = msgs.findIndex(
      (m) => m === 'closing connection on error' || m?.startsWith('connection closed'),
    );
    expect(stopped).toBeGreaterThan(msgs.indexOf('shutting down'));
    expect(firstClose).toBeGreaterThan(stopped);
  });

  test('a message delivered but not acked at SIGTERM is there after the restart, marked redelivered', async () => {
    // Both processes run on the same data directory (warren() names it).
    const first = warren();
    await first.waitForLine('warren started');
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(first, 'amqp')}`);
    conn.on('error', () => {});
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => {});
    await ch.assertQueue('jobs', { durable: true });
    ch.sendToQueue('jobs', Buffer.from('job 1'), { persistent: true });
    await ch.waitForConfirms();
    const delivered = new Promise<amqp.ConsumeMessage>(
      (resolve) => void ch.consume('jobs', (m) => m && resolve(m), { noAck: false }),
    );
    expect((await delivered).fields.redelivered).toBe(false);

    expect((await terminate(first)).code).toBe(0);

    const second = warren();
    await second.waitForLine('warren started');
    const again = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(second, 'amqp')}`);
    const ch2 = await again.createChannel();
    const got = await ch2.get('jobs', { noAck: true });
    expect(got !== false && [got.content.toString(), got.fields.redelivered]).toEqual(['job 1', true]);
    await again.close();
  });

  test('a store whose fsync never returns: warren exits 1 at shutdownTimeoutMs, naming the journal flush', async () => {
    const proc = warren({ ...STALL, WARREN_SHUTDOWN_TIMEOUT_MS: '1000' });
    await proc.waitForLine('warren started');
    proc.child.kill('SIGUSR2');
    await pollUntil(() => proc.stderr().includes('fsync stall armed'));
    // Declaring a durable queue is a journal write; its group commit now never finishes.
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    ch.assertQueue('stuck', { durable: true }).catch(() => {});
    await pollUntil(() => proc.stderr().includes('fsync stalled'));

    const { code, ms } = await terminate(proc);
    expect(code).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(lastLine(proc)).toMatchObject({
      level: 50,
      msg: 'shutdown did not finish in time; exiting',
      timeoutMs: 1000,
      waitingFor: [expect.stringMatching(/^broker: final store flush and journal close \(journal batches/)],
    });
  });

  test('a second SIGTERM during a stuck shutdown exits 1 at once', async () => {
    // The deadline is far away: only the second signal can end this process within EXIT_WITHIN_MS.
    const proc = warren({ ...STALL, WARREN_SHUTDOWN_TIMEOUT_MS: '600000' });
    await proc.waitForLine('warren started');
    proc.child.kill('SIGUSR2');
    await pollUntil(() => proc.stderr().includes('fsync stall armed'));
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    ch.assertQueue('stuck', { durable: true }).catch(() => {});
    await pollUntil(() => proc.stderr().includes('fsync stalled'));

    proc.child.kill('SIGTERM');
    // Two signals sent back to back can merge into one; the second must come after the first was handled.
    await proc.waitForLine('shutting down');
    const { code } = await terminate(proc);
    expect(code).toBe(1);
    expect(lastLine(proc)).toMatchObject({ msg: 'second signal during shutdown; exiting now' });
  });

  test('during a startup stuck on its first fsync: warren exits 1 at the deadline, naming the step', async () => {
    const proc = warren({ ...STALL, STALL_FSYNC: 'at-start', WARREN_SHUTDOWN_TIMEOUT_MS: '500' });
    await pollUntil(() => proc.stderr().includes('fsync stalled'));

    const { code } = await terminate(proc);
    expect(code).toBe(1);
    expect(proc.lines.some((l) => l.msg === 'warren started')).toBe(false);
    expect(lastLine(proc)).toMatchObject({
      msg: 'shutdown did not finish in time; exiting',
      waitingFor: ['startup: preparing the data directory'],
    });
  });
});

describe('readiness during a shutdown', () => {
  test('GET /ready on the Prometheus port answers 503 while the broker drains, and the AMQP port refuses', async () => {
    // A stalled fsync holds the broker's final flush, so the drain lasts until shutdownTimeoutMs.
    const proc = warren({ ...STALL, WARREN_SHUTDOWN_TIMEOUT_MS: '3000' });
    await proc.waitForLine('warren started');
    const ready = `http://127.0.0.1:${portOf(proc, 'prometheus')}/ready`;
    expect((await fetch(ready)).status).toBe(200);
    proc.child.kill('SIGUSR2');
    await pollUntil(() => proc.stderr().includes('fsync stall armed'));
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    ch.assertQueue('stuck', { durable: true }).catch(() => {});
    await pollUntil(() => proc.stderr().includes('fsync stalled'));

    proc.child.kill('SIGTERM');
    await proc.waitForLine('not accepting new connections');
    const during = await fetch(ready);
    expect([during.status, await during.text()]).toEqual([503, 'shutting down\n']);
    const refused = await new Promise<boolean>((resolve) => {
      const s = connectTcp({ host: '127.0.0.1', port: portOf(proc, 'amqp') });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(await within(proc.exited, EXIT_WITHIN_MS, 'warren exit after SIGTERM')).toBe(1);
  });
});
