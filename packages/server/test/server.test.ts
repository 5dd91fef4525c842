import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@warren/core';
import {
  DataDirError,
  defaultConfig,
  startServer,
  VERSION,
  type Listener,
  type ListenerFactory,
  type WarrenConfig,
} from '../src';

interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string | undefined;
  obj: object;
}

/** A Logger that keeps what it is given, so tests assert on log lines as an operator would read them. */
function recordingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  const logger: Logger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    child: () => logger,
  };
  return { logger, entries };
}

/** A listener that only records what happens to it, in the shared `events` list. */
function fakeListener(name: string, port: number, events: string[], closeError?: Error): ListenerFactory {
  return async () => {
    events.push(`open ${name}`);
    const listener: Listener = {
      name,
      address: { host: '::', port },
      stopAccepting: () => events.push(`stop accepting ${name}`),
      close: async () => {
        events.push(`close ${name}`);
        if (closeError) throw closeError;
      },
    };
    return listener;
  };
}

let dir: string;
let config: WarrenConfig;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-server-'));
  config = { ...defaultConfig(), dataDir: join(dir, 'nested', 'data') };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('startServer creates a missing data directory and logs "warren started" with pid, version and dataDir', async () => {
  const { logger, entries } = recordingLogger();
  const server = await startServer(config, { logger, listeners: [] });
  expect(existsSync(config.dataDir)).toBe(true);
  expect(entries).toContainEqual({
    level: 'info',
    msg: 'warren started',
    obj: expect.objectContaining({ pid: process.pid, version: VERSION, dataDir: config.dataDir }),
  });
  await server.close();
});

test('listeners open in registry order, are given the broker and config, and each logs where it listens', async () => {
  const { logger, entries } = recordingLogger();
  const events: string[] = [];
  const seen: unknown[] = [];
  const spy: ListenerFactory = async (context) => {
    seen.push(context.broker, context.config);
    return fakeListener('stomp', 61613, events)(context);
  };
  const server = await startServer(config, { logger, listeners: [fakeListener('amqp', 5672, events), spy] });

  expect(events).toEqual(['open amqp', 'open stomp']);
  expect(seen).toEqual([server.broker, config]);
  expect(server.listeners.map((l) => l.name)).toEqual(['amqp', 'stomp']);
  const lines = entries.filter((e) => e.msg === 'listening').map((e) => e.obj);
  expect(lines).toEqual([
    { protocol: 'amqp', host: '::', port: 5672 },
    { protocol: 'stomp', host: '::', port: 61613 },
  ]);
  // The started line comes last: once it is logged, every port is open.
  expect(entries.at(-1)?.msg).toBe('warren started');
  await server.close();
});

test('close closes the listeners before the broker, logs "warren stopped", and does it only once', async () => {
  const { logger, entries } = recordingLogger();
  const events: string[] = [];
  const server = await startServer(config, { logger, listeners: [fakeListener('amqp', 1, events)] });
  jest.spyOn(server.broker, 'close').mockImplementation(async () => {
    events.push('close broker');
  });

  const first = server.close();
  const second = server.close();
  expect(second).toBe(first);
  await first;
  await server.close();

  expect(events).toEqual(['open amqp', 'stop accepting amqp', 'close amqp', 'close broker']);
  expect(entries.filter((e) => e.msg === 'warren stopped')).toHaveLength(1);
});

test('close stops every listener accepting before it closes any connection, and logs that it has', async () => {
  const { logger } = recordingLogger();
  const events: string[] = [];
  const info = logger.info;
  logger.info = (obj, msg) => {
    if (msg === 'not accepting new connections') events.push(`log ${msg}`);
    info(obj, msg);
  };
  const server = await startServer(config, {
    logger,
    listeners: ['amqp', 'stomp', 'ws'].map((name, i) => fakeListener(name, i + 1, events)),
  });
  jest.spyOn(server.broker, 'close').mockImplementation(async () => {
    events.push('close broker');
  });

  await server.close();
  expect(events.slice(3)).toEqual([
    'stop accepting amqp',
    'stop accepting stomp',
    'stop accepting ws',
    'log not accepting new connections',
    'close amqp',
    'close stomp',
    'close ws',
    'close broker',
  ]);
});

test('a listener that cannot open fails the start, and what already opened is closed again', async () => {
  const events: string[] = [];
  const bindError = Object.assign(new Error('listen EADDRINUSE: address already in use :::5672'), {
    code: 'EADDRINUSE',
  });
  let brokerClosed = false;
  const failing: ListenerFactory = async ({ broker }) => {
    jest.spyOn(broker, 'close').mockImplementation(async () => {
      brokerClosed = true;
    });
    throw bindError;
  };

  await expect(startServer(config, { listeners: [fakeListener('amqp', 1, events), failing] })).rejects.toBe(
    bindError,
  );
  expect(events).toEqual(['open amqp', 'stop accepting amqp', 'close amqp']);
  expect(brokerClosed).toBe(true);
});

test('a listener that fails to close is logged, the broker still closes, and close rejects', async () => {
  const { logger, entries } = recordingLogger();
  const events: string[] = [];
  const stuck = new Error('socket would not close');
  const server = await startServer(config, {
    logger,
    listeners: [fakeListener('amqp', 1, events, stuck), fakeListener('stomp', 2, events)],
  });
  const brokerClose = jest.spyOn(server.broker, 'close');

  await expect(server.close()).rejects.toThrow('warren did not stop cleanly');
  expect(events).toEqual([
    'open amqp',
    'open stomp',
    'stop accepting amqp',
    'stop accepting stomp',
    'close amqp',
    'close stomp',
  ]);
  expect(brokerClose).toHaveBeenCalledTimes(1);
  expect(entries).toContainEqual({
    level: 'error',
    msg: 'listener failed to close',
    obj: { err: stuck, protocol: 'amqp' },
  });
  expect(entries.some((e) => e.msg === 'warren stopped')).toBe(false);
});

test('while close runs, pending() names each part still closing, then nothing once all have', async () => {
  let releaseListener = (): void => {};
  let releaseBroker = (): void => {};
  const slow: ListenerFactory = async () => ({
    name: 'stomp',
    address: { host: '::', port: 1 },
    stopAccepting: () => {},
    close: () => new Promise<void>((resolve) => (releaseListener = resolve)),
  });
  const server = await startServer(config, { listeners: [slow] });
  const realClose = server.broker.close.bind(server.broker);
  jest.spyOn(server.broker, 'close').mockImplementation(async () => {
    await new Promise<void>((resolve) => (releaseBroker = resolve));
    await realClose();
  });
  expect(server.pending()).toEqual([]);

  const closed = server.close();
  expect(server.pending()).toEqual(["stomp listener: its clients' connections to close"]);
  releaseListener();
  await new Promise((resolve) => setImmediate(resolve));
  expect(server.pending()).toEqual([
    expect.stringMatching(
      /^broker: final store flush and journal close \(journal batches not yet on disk: \d+\)$/,
    ),
  ]);
  releaseBroker();
  await closed;
  expect(server.pending()).toEqual([]);
});

test('onStep hears each step of the start in order', async () => {
  const steps: string[] = [];
  const server = await startServer(config, { listeners: [], onStep: (step) => steps.push(step) });
  await server.close();
  expect(steps).toEqual([
    'preparing the data directory',
    'opening the journal',
    'restoring durable state',
    'opening listeners',
  ]);
});

test('a data directory that cannot be created rejects with a DataDirError naming it and the step', async () => {
  const file = join(dir, 'file');
  writeFileSync(file, '');
  const dataDir = join(file, 'data');
  const err: unknown = await startServer({ ...config, dataDir }, { listeners: [] }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DataDirError);
  expect(err).toMatchObject({ dataDir, step: 'create', code: 'ENOTDIR' });
  expect((err as Error).message).toMatch(`cannot use data directory ${dataDir}: create failed: ENOTDIR`);
});
