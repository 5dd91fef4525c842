import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, startServer, type ServerHandle } from '@warren/server';

export interface TestBroker {
  server: ServerHandle;
  port: number;
  stop(): Promise<void>;
}

/** An in-process Warren on free loopback ports, with a throw-away data directory. */
export async function startTestBroker(): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-perf-'));
  const config = defaultConfig();
  for (const endpoint of [config.amqp, config.stomp, config.ws, config.http, config.prometheus]) {
    endpoint.host = '127.0.0.1';
    endpoint.port = 0;
  }
  config.dataDir = dir;
  config.logLevel = 'silent';
  const server = await startServer(config);
  const amqp = server.listeners.find((l) => l.name === 'amqp');
  if (!amqp) throw new Error('no amqp listener');
  return {
    server,
    port: amqp.address.port,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
