import { startNatsCluster, type NatsCluster } from '@warren/cluster';
import type { WarrenConfig } from '@warren/server';
import { startWarren, type TestBroker } from '../support/warren';

/** A NATS JetStream cluster of three servers and Warren nodes on it, all in this test process but NATS. */
export interface TestCluster {
  readonly nats: NatsCluster;
  readonly nodes: TestBroker[];
  /** Starts one more node on the same NATS cluster. */
  addNode(name: string): Promise<TestBroker>;
  close(): Promise<void>;
}

/** How long JetStream waits for a dead node's acks in these tests: short, so redelivery tests are quick. */
export const TEST_ACK_WAIT_MS = 3000;

export function clusterConfig(nats: NatsCluster, name: string): (config: WarrenConfig) => void {
  return (config) => {
    config.cluster.natsServers = nats.urls;
    config.cluster.nodeName = name;
    config.cluster.replicas = 3;
    config.cluster.ackWaitMs = TEST_ACK_WAIT_MS;
  };
}

export async function startTestCluster(
  nodeNames: string[] = ['a', 'b'],
  /** Changes one node's configuration before it starts (limits, say). */
  configure?: (name: string, config: WarrenConfig) => void,
): Promise<TestCluster> {
  const nats = await startNatsCluster({ servers: 3 });
  const nodes: TestBroker[] = [];
  const addNode = async (name: string): Promise<TestBroker> => {
    const node = await startWarren((config) => {
      configure?.(name, config);
      clusterConfig(nats, name)(config);
    });
    nodes.push(node);
    return node;
  };
  try {
    await nats.ready();
    // One after the other: the first seeds the cluster's topology, the next join what it made.
    for (const name of nodeNames) await addNode(name);
  } catch (err) {
    for (const n of nodes) await n.close().catch(() => {});
    await nats.stop();
    throw err;
  }
  return {
    nats,
    nodes,
    addNode,
    close: async () => {
      for (const n of nodes) await n.close().catch(() => {});
      await nats.stop();
    },
  };
}
