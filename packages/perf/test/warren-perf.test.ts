import { BASIC_CONSUME, QUEUE_DECLARE, QUEUE_DELETE } from '@warren/amqp';
import { AmqpClient } from '../src/amqp-client';
import { main } from '../src/cli';
import type { Output } from '../src/output';
import { formatTable } from '../src/output';
import { PublishFrames } from '../src/publish-frames';
import type { RunResult } from '../src/result';
import { startTestBroker, type TestBroker } from './broker';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.stop();
});

/** Runs the CLI with --json against the test broker; returns the exit status and stdout as written. */
async function perf(...argv: string[]): Promise<{ status: number; lines: string[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const out: Output = {
    result: (r) => lines.push(JSON.stringify(r)),
    progress: () => {},
    error: (m) => errors.push(m),
    usage: (t) => lines.push(t),
  };
  const status = await main(['--port', String(broker.port), '--json', '--drain-timeout', '10', ...argv], out);
  return { status, lines, errors };
}

function only(lines: string[]): RunResult {
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as RunResult;
}

function expectOrderedPercentiles(r: RunResult): void {
  const keys = ['min', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'].map((k) => `lat_us_${k}`);
  const values = keys.map((k) => r[k]);
  for (const v of values) expect(typeof v).toBe('number');
  const sorted = [...(values as number[])].sort((a, b) => a - b);
  expect(values).toEqual(sorted);
}

describe('the AMQP client', () => {
  it('logs in, declares a queue, publishes and consumes its own stamped messages', async () => {
    const opts = {
      host: '127.0.0.1',
      port: broker.port,
      user: 'guest',
      pass: 'guest',
      vhost: '/',
      frameMax: 131072,
    };
    const pub = await AmqpClient.connect({ ...opts, name: 'test-pub' });
    const sub = await AmqpClient.connect({ ...opts, name: 'test-sub' });
    const queue = 'perf-client-test';
    const declare = { ticket: 0, passive: false, durable: false, exclusive: false, autoDelete: false };
    await pub.rpc({ id: QUEUE_DECLARE, queue, ...declare, noWait: false, arguments: {} });
    const received: Array<{ tag: number; sendNs: number; recvNs: number }> = [];
    sub.onDelivery = (tag, sendNs, recvNs) => received.push({ tag, sendNs, recvNs });
    const consumeArgs = { ticket: 0, queue, consumerTag: 'c', noLocal: false, noAck: true, exclusive: false };
    await sub.rpc({ id: BASIC_CONSUME, ...consumeArgs, noWait: false, arguments: {} });

    // A body larger than frame-max travels in several body frames and must still count as one delivery.
    const sizes = [16, 1024, 300_000];
    for (const size of sizes) {
      const frames = new PublishFrames(pub.writer, {
        exchange: '',
        routingKeys: [queue],
        size,
        persistent: false,
        producerId: 7,
      });
      pub.write(frames.batch(10, 0, 1_000_000, 1000));
    }
    const deadline = Date.now() + 5000;
    while (received.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    expect(received).toHaveLength(30);
    expect(received.map((d) => d.tag)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(received.slice(0, 10).map((d) => d.sendNs)).toEqual(
      Array.from({ length: 10 }, (_, i) => 1_000_000 + i * 1000),
    );
    expect(pub.frameMax).toBe(131072);
    await pub.rpc({ id: QUEUE_DELETE, ticket: 0, queue, ifUnused: false, ifEmpty: false, noWait: false });
    await pub.close();
    await sub.close();
  });

  it('reports a refused login as an error', async () => {
    const opts = { host: '127.0.0.1', port: broker.port, vhost: '/', frameMax: 0, name: 'bad' };
    await expect(AmqpClient.connect({ ...opts, user: 'guest', pass: 'wrong' })).rejects.toThrow();
  });
});

describe('warren-perf against an in-process Warren', () => {
  it('delivers every message of a counted run and prints one parseable JSON line with ordered percentiles', async () => {
    const { status, lines } = await perf('--count', '2000');
    expect(status).toBe(0);
    const r = only(lines);
    expect(r).toMatchObject({
      tool: 'warren-perf',
      ok: true,
      drained: true,
      published: 2000,
      consumed: 2000,
    });
    expect(r['missing']).toBe(0);
    expect(r['stale']).toBe(0);
    expect(r['lat_samples']).toBe(2000);
    expectOrderedPercentiles(r);
  });

  it('runs manual acks with prefetch, multiple-acks and publisher confirms to the end', async () => {
    const { status, lines } = await perf(
      ...['--count', '3000', '-x', '2', '-y', '2', '--size', '1k', '--ack', 'manual'],
      ...['--prefetch', '50', '--ack-every', '10', '--confirm', '64', '--persistent'],
    );
    expect(status).toBe(0);
    const r = only(lines);
    expect(r).toMatchObject({
      ok: true,
      drained: true,
      published: 3000,
      consumed: 3000,
      confirmed: 3000,
      nacked: 0,
    });
    expect(typeof r['confirm_us_p50']).toBe('number');
    expectOrderedPercentiles(r);
  });

  it('copies every message to each queue of a fanout', async () => {
    const { lines } = await perf('--count', '1000', '-y', '3', '--fanout', '3');
    expect(only(lines)).toMatchObject({
      ok: true,
      drained: true,
      published: 1000,
      expected: 3000,
      consumed: 3000,
    });
  });

  it('routes each message through exactly one topic binding', async () => {
    const { lines } = await perf('--count', '1000', '-y', '2', '--queues', '2', '--topic', '50');
    expect(only(lines)).toMatchObject({
      ok: true,
      drained: true,
      published: 1000,
      expected: 1000,
      consumed: 1000,
    });
  });

  it('measures a timed run with warm-up, a fixed rate and a bounded backlog', async () => {
    const { lines } = await perf(
      ...['--duration', '1', '--warmup', '0.3', '--rate', '500', '--max-backlog', '100'],
    );
    const r = only(lines);
    expect(r).toMatchObject({ ok: true, drained: true, duration_s: 1, warmup_s: 0.3 });
    expect(r['published']).toBe(r['consumed']);
    // Messages sent during the warm-up are delivered but not sampled.
    expect(r['lat_samples'] as number).toBeLessThan(r['consumed'] as number);
    expectOrderedPercentiles(r);
  });

  it('prints one result per repetition', async () => {
    const { lines } = await perf('--count', '200', '--repeat', '2');
    expect(lines.map((l) => (JSON.parse(l) as RunResult)['consumed'])).toEqual([200, 200]);
  });

  it('formats a human table with rates and the latency percentiles', async () => {
    const { lines } = await perf('--count', '500');
    const table = formatTable(only(lines));
    expect(table).toMatch(/published .* msgs\/s/);
    expect(table).toMatch(/consumed .* msgs\/s/);
    expect(table).toMatch(/p50 +p75 +p95 +p99 +max/);
  });

  it('fails with status 1 and ok:false when the broker is not there', async () => {
    const lines: string[] = [];
    const out: Output = {
      result: (r) => lines.push(JSON.stringify(r)),
      progress: () => {},
      error: () => {},
      usage: () => {},
    };
    const status = await main(['--port', '1', '--json', '--count', '10'], out);
    expect(status).toBe(1);
    expect(only(lines)).toMatchObject({ ok: false });
  });

  it('exits with status 2 on a bad flag', async () => {
    const { status, errors } = await perf('--size', '4');
    expect(status).toBe(2);
    expect(errors.join('')).toMatch(/--size/);
  });
});
