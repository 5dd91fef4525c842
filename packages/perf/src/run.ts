/**
 * One run of a scenario: setup connection and topology, consumers subscribed first, producers connected,
 * then everyone starts at t0; warm-up, measurement window, drain, teardown. Concepts and result field names
 * follow the shared C harness (amqp-load) so both tools' JSON lines can sit in one table.
 */
import { randomBytes } from 'node:crypto';
import { CONFIRM_SELECT } from '@warren/amqp';
import { AmqpClient, type ConnectOptions } from './amqp-client';
import { Consumer } from './consumer';
import { Histogram } from './histogram';
import type { PerfOptions } from './options';
import { sampleCpu, type CpuSample } from './proc-stats';
import { Producer } from './producer';
import { PublishFrames } from './publish-frames';
import { buildResult, type ProgressSample, type RunResult } from './result';
import { nowNs, RunContext } from './run-context';
import { declareTopology, deleteTopology, planTopology } from './topology';

export interface RunHooks {
  /** Called about once a second while producers run, with --progress. */
  progress?: (sample: ProgressSample) => void;
}

const POLL_MS = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runScenario(o: PerfOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const runId = randomBytes(4).toString('hex');
  const base: Omit<ConnectOptions, 'name'> = {
    host: o.host,
    port: o.port,
    user: o.user,
    pass: o.pass,
    vhost: o.vhost,
    frameMax: o.frameMax,
  };
  const topo = planTopology(o, runId);
  const run = new RunContext(topo.copies, o.maxBacklog, o.consumers);
  const clients: AmqpClient[] = [];
  let failure: Error | undefined;
  const open = async (name: string): Promise<AmqpClient> => {
    const c = await AmqpClient.connect({ ...base, name: `warren-perf ${runId} ${name}` });
    clients.push(c);
    c.onError = (err) => (failure ??= err);
    return c;
  };

  const setup = await open('setup');
  try {
    await declareTopology(setup, o, topo);
    const consumers = await Promise.all(
      Array.from({ length: o.consumers }, async (_, i) => {
        const consumer = new Consumer(
          await open(`consumer-${i}`),
          {
            queue: topo.queueFor(i),
            manualAck: o.ack === 'manual',
            prefetch: o.prefetch,
            ackEvery: o.ackEvery,
            tag: `perf-${i}`,
          },
          run,
        );
        await consumer.subscribe();
        return consumer;
      }),
    );
    const producers = await Promise.all(
      Array.from({ length: o.producers }, async (_, i) => {
        const client = await open(`producer-${i}`);
        if (o.confirm > 0) await client.rpc({ id: CONFIRM_SELECT, noWait: false });
        const frames = new PublishFrames(client.writer, {
          exchange: topo.exchange,
          routingKeys: topo.routingKeys(i),
          size: o.size,
          persistent: o.persistent,
          producerId: i,
        });
        const quota =
          o.count > 0 ? Math.floor(o.count / o.producers) + (i < o.count % o.producers ? 1 : 0) : Infinity;
        return new Producer(
          client,
          frames,
          {
            batch: o.rate > 0 ? 1 : o.publishBatch || frames.autoBatch(),
            confirmWindow: o.confirm,
            rate: o.rate / o.producers,
            quota,
          },
          run,
        );
      }),
    );

    const cpuStart = sampleCpu(o.brokerPid, nowNs());
    run.start(o.warmup, o.duration, o.count > 0);
    for (const p of producers) p.start();

    // Publishing phase: until every producer has stopped (quota, end of the window) or a connection fails.
    let nextTick = run.t0Ns + 1e9;
    let lastTick = { atNs: run.t0Ns, published: 0, consumed: 0 };
    const tick = (): void => {
      const now = nowNs();
      if (hooks.progress === undefined || now < nextTick) return;
      nextTick += 1e9;
      const dt = (now - lastTick.atNs) / 1e9;
      hooks.progress({
        t_s: (now - run.t0Ns) / 1e9,
        pub_rate: (run.published - lastTick.published) / dt,
        cons_rate: (run.consumed - lastTick.consumed) / dt,
        backlog: run.backlog(),
      });
      lastTick = { atNs: now, published: run.published, consumed: run.consumed };
    };
    while (!failure && producers.some((p) => !p.stopped)) {
      await sleep(POLL_MS);
      tick();
      if (nowNs() >= run.endNs) {
        for (const p of producers) p.stop();
        run.releaseAll();
      }
    }
    const stopNs = nowNs();

    // Drain: consumers read until everything published arrived; confirms until every publish is settled.
    const expected = o.consumers > 0 ? run.published * topo.copies : 0;
    const deadline = stopNs + o.drainTimeout * 1e9;
    const settled = (): boolean => run.consumed >= expected && producers.every((p) => p.unconfirmed() === 0);
    while (!failure && !settled() && nowNs() < deadline) {
      await sleep(POLL_MS);
      tick();
    }
    const cpuEnd = sampleCpu(o.brokerPid, nowNs());

    const latency = new Histogram();
    for (const c of consumers) latency.merge(c.latency);
    const confirmLatency = new Histogram();
    for (const p of producers) confirmLatency.merge(p.confirmLatency);
    const result = buildResult({
      o,
      run,
      topo,
      producers,
      consumers,
      expected,
      stopNs,
      latency,
      confirmLatency,
      cpu: [cpuStart, cpuEnd] as [CpuSample, CpuSample],
      error: failure?.message,
    });
    if (!o.keep && !failure) await deleteTopology(setup, topo);
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.close(1000).catch(() => c.destroy())));
  }
}
