import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import amqp from 'amqplib';
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

/** A STOMP client past CONNECTED, on a raw socket: what it sees at shutdown is the socket closing. */
async function stompClient(port: number): Promise<Socket> {
  const socket = connectTcp({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.startsWith('CONNECTED\n')) resolve();
    });
    socket.once('close', () => reject(new Error(`closed before CONNECTED: ${seen}`)));
    socket.write('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0');
  });
  return socket;
}

describe('SIGTERM', () => {
  test('closes connected clients (AMQP connection.close 320, STOMP socket closed) and exits 0', async () => {
    const proc = warren();
    await proc.waitForLine('warren started');
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${portOf(proc, 'amqp')}`);
    const amqpClosed = new Promise<unknown>((resolve) => conn.on('close', resolve));
    conn.on('error', () => {});
    const stomp = await stompClient(portOf(proc, 'stomp'));
    const stompClosed = new Promise<void>((resolve) => stomp.once('close', () => resolve()));

    const { code } = await terminate(proc);
    expect(code).toBe(0);
    expect(await amqpClosed).toMatchObject({ code: 320 });
    await stompClosed;
    expect(lastLine(proc)).toMatchObject({ msg: 'warren stopped' });
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
