import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultConfig,
  startServer,
  type ServerHandle,
  type StartOptions,
  type WarrenConfig,
} from '@warren/server';
import { clusterMode, startClusterWarren } from './cluster-mode';

/** A broker for black-box tests: where its listeners are, and how to stop it. */
export interface TestBroker {
  readonly host: string;
  readonly amqpPort: number;
  readonly stompPort: number;
  readonly wsPort: number;
  readonly httpPort: number;
  /** The in-process server; undefined when the tests run against an external broker. */
  readonly server: ServerHandle | undefined;
  readonly dataDir: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts Warren in this process on free ports (port 0) with a fresh data directory.
 *
 * Set WARREN_TEST_EXTERNAL=host:amqpPort:stompPort:wsPort to run the same black-box tests against another
 * broker instead — for example a reference RabbitMQ started on private ports
 * (WARREN_TEST_EXTERNAL=127.0.0.1:5682:61623:15684), which shows that a test asserts RabbitMQ's behaviour and
 * not merely Warren's. Tests never need it: without the variable they run against Warren.
 *
 * Set WARREN_TEST_CLUSTER=1 to run them against a two-node Warren cluster instead (see cluster-mode.ts).
 */
export async function startWarren(
  configure?: (config: WarrenConfig) => void,
  options?: StartOptions,
): Promise<TestBroker> {
  const external = process.env['WARREN_TEST_EXTERNAL'];
  if (external !== undefined && external !== '') {
    const [host = '127.0.0.1', amqp = '5672', stomp = '61613', ws = '15674'] = external.split(':');
    return {
      host,
      amqpPort: Number(amqp),
      stompPort: Number(stomp),
      wsPort: Number(ws),
      httpPort: 0,
      server: undefined,
      dataDir: undefined,
      close: async () => {},
    };
  }
  if (clusterMode) return startClusterWarren(configure, options);
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-test-'));
  const config = defaultConfig();
  config.dataDir = dataDir;
  for (const l of [config.amqp, config.stomp, config.ws, config.http, config.prometheus]) {
    l.port = 0;
    l.host = '127.0.0.1';
  }
  configure?.(config);
  const server = await startServer(config, options);
  const port = (name: string): number => server.listeners.find((l) => l.name === name)?.address.port ?? 0;
  return {
    host: '127.0.0.1',
    amqpPort: port('amqp'),
    stompPort: port('stomp'),
    wsPort: port('ws'),
    httpPort: port('http'),
    server,
    dataDir,
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** True when the suite targets an external broker (see startWarren). */
export const againstExternalBroker = (process.env['WARREN_TEST_EXTERNAL'] ?? '') !== '';

/** True when the suites run against a two-node cluster (WARREN_TEST_CLUSTER; see cluster-mode.ts). */
export { clusterMode };
