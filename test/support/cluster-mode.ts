import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsCluster } from '@warren/cluster';
import {
  defaultConfig,
  startServer,
  type ServerHandle,
  type StartOptions,
  type WarrenConfig,
} from '@warren/server';
import type { TestBroker } from './warren';

/**
 * The black-box suites' cluster mode (WARREN_TEST_CLUSTER=1): each broker a suite starts is two Warren nodes
 * on a NATS JetStream cluster of three servers, behind one port per protocol whose connections go to the
 * nodes in turn. A suite's publisher and its consumer (two connections) then talk to different nodes, so
 * what it checks of one broker, it checks of the cluster. The HTTP API is node a's.
 */
export const clusterMode = (process.env['WARREN_TEST_CLUSTER'] ?? '') !== '';

/** How long JetStream waits for a dead node's acks: short, as the suites' own timeouts are. */
const ACK_WAIT_MS = 5000;

export async function startClusterWarren(
  configure?: (config: WarrenConfig) => void,
  options?: StartOptions,
): Promise<TestBroker> {
  // Room for the suites' largest messages (a STOMP SEND just under Warren's 4 MiB frame limit); the NATS
  // default of 1 MiB is the first thing an operator raises for RabbitMQ-sized messages (docs/cluster.md).
  const nats = await startNatsCluster({ servers: 3, maxPayload: 8 * 1024 * 1024 });
  const servers: ServerHandle[] = [];
  const dirs: string[] = [];
  const proxies: Server[] = [];
  const close = async (): Promise<void> => {
    for (const p of proxies) p.close();
    for (const s of servers) await s.close().catch(() => {});
    await nats.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  };
  try {
    await nats.ready();
    for (const name of ['a', 'b']) {
      const dataDir = await mkdtemp(join(tmpdir(), `warren-cluster-${name}-`));
      dirs.push(dataDir);
      const config = defaultConfig();
      config.dataDir = dataDir;
      for (const l of [config.amqp, config.stomp, config.ws, config.http, config.prometheus]) {
        l.port = 0;
        l.host = '127.0.0.1';
      }
      configure?.(config);
      config.cluster.natsServers = nats.urls;
      config.cluster.nodeName = name;
      config.cluster.ackWaitMs = ACK_WAIT_MS;
      servers.push(await startServer(config, options));
    }
    const portsOf = (listener: string): number[] =>
      servers.map((s) => s.listeners.find((l) => l.name === listener)?.address.port ?? 0);
    const front = async (listener: string): Promise<number> => {
      const backends = portsOf(listener);
      if (backends.includes(0)) return 0;
      const proxy = await roundRobin(backends);
      proxies.push(proxy);
      return (proxy.address() as AddressInfo).port;
    };
    const [a] = servers as [ServerHandle];
    return {
      host: '127.0.0.1',
      amqpPort: await front('amqp'),
      stompPort: await front('stomp'),
      wsPort: await front('ws'),
      httpPort: a.listeners.find((l) => l.name === 'http')?.address.port ?? 0,
      server: a,
      dataDir: dirs[0],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A TCP port whose connections are piped to `backends` in turn. */
async function roundRobin(backends: number[]): Promise<Server> {
  let next = 0;
  const server = createServer({ noDelay: true }, (client: Socket) => {
    const port = backends[next++ % backends.length] as number;
    const upstream = connect({ host: '127.0.0.1', port, noDelay: true });
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  // Both loopbacks, as a broker bound to '::' answers on either.
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  return server;
}
