import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@warren/core';
import { defaultConfig, startServer, type WarrenConfig } from '../src';
import { warmUp } from '../src/warm-up';

/** Server sockets this process listens on: what a warm-up must give back when it is done. */
const listening = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

interface Line {
  level: string;
  msg: string | undefined;
  obj: Record<string, unknown>;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const record =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, obj: obj as Record<string, unknown> });
    };
  const logger: Logger = {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    child: () => logger,
  };
  return { logger, lines };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warren-warm-up-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the warm-up completes its round trips over AMQP, STOMP and WebSocket and leaves no socket or file', async () => {
  const before = listening();
  const journalDir = join(dir, 'warm-up');
  const { logger, lines } = recordingLogger();
  const report = await warmUp({ roundTrips: 300, cycles: 3, journalDir }, logger);
  expect(report.roundTrips).toEqual({ amqp: 300, stomp: 300, ws: 300 });
  expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  expect(existsSync(journalDir)).toBe(false);
  expect(listening()).toBe(before);
});

test('a warm-up past its deadline is abandoned with a warning, and cleans up all the same', async () => {
  const before = listening();
  const journalDir = join(dir, 'warm-up');
  const { logger, lines } = recordingLogger();
  const report = await warmUp({ roundTrips: 1_000_000, deadlineMs: 200, journalDir }, logger);
  expect(report.roundTrips.amqp).toBeLessThan(1_000_000);
  const warning = lines.find((l) => l.level === 'warn');
  expect(warning?.msg).toBe('warm-up abandoned; the broker starts cold');
  expect(String((warning?.obj['err'] as Error).message)).toMatch(/not done after 200 ms/);
  expect(existsSync(journalDir)).toBe(false);
  expect(listening()).toBe(before);
});

describe('warren start with the warm-up', () => {
  let config: WarrenConfig;
  beforeEach(() => {
    const base = defaultConfig();
    const free = { host: '127.0.0.1', port: 0 };
    config = {
      ...base,
      dataDir: join(dir, 'data'),
      amqp: free,
      stomp: { ...base.stomp, ...free },
      ws: { ...base.ws, ...free },
      http: free,
      prometheus: free,
    };
  });

  test('warms up before the first listener opens, and nothing of it shows in the broker', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startServer(config, { logger, warmUp: true });
    try {
      const messages = lines.map((l) => l.msg);
      const warmed = messages.indexOf('warmed up');
      expect(warmed).toBeGreaterThan(-1);
      expect(warmed).toBeLessThan(messages.indexOf('listening'));
      expect(lines[warmed]?.obj['roundTrips']).toEqual({ amqp: 3000, stomp: 3000, ws: 3000 });
      const { broker } = server;
      expect([...broker.vhosts.keys()]).toEqual(['/']);
      expect(broker.vhosts.get('/')?.queues.size).toBe(0);
      expect(broker.users.get('warm-up')).toBeUndefined();
      expect(broker.connections.size).toBe(0);
      expect(broker.stats).toEqual({ published: 0, delivered: 0, acked: 0, redelivered: 0 });
      expect(existsSync(join(config.dataDir, 'warm-up'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  test('warmUp off in the configuration: no warm-up even when the caller asks for one', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startServer({ ...config, warmUp: false }, { logger, warmUp: true });
    await server.close();
    expect(lines.map((l) => l.msg)).not.toContain('warmed up');
  });
});
