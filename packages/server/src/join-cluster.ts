import type { Broker, Logger, MemoryStore } from '@warren/core';
import { ClusterNode, connectCluster, defaultNodeName, type ClusterConnection } from '@warren/cluster';
import type { ClusterOptions } from './config';

/** This process's part in a cluster: leave() after the broker closed (its last acks and naks need NATS). */
export interface ClusterMembership {
  readonly node: ClusterNode;
  readonly conn: ClusterConnection;
  leave(): Promise<void>;
}

/**
 * Makes the started broker one node of the cluster: connects to NATS, raises the 'cluster' alarm (publishers
 * blocked, "cluster unreachable") while the connection is down, and hands topology and durable queues to a
 * ClusterNode. `store` is the broker's MemoryStore: what the broker made at start seeds an empty cluster.
 */
export async function joinCluster(
  broker: Broker,
  store: MemoryStore,
  options: ClusterOptions,
  amqpPort: number,
  logger: Logger,
): Promise<ClusterMembership> {
  const name = options.nodeName ?? defaultNodeName(amqpPort);
  const log = logger.child({ component: 'cluster', node: name });
  const tls =
    options.natsCaFile === null && options.natsCertFile === null && options.natsKeyFile === null
      ? undefined
      : {
          ...(options.natsCaFile === null ? {} : { caFile: options.natsCaFile }),
          ...(options.natsCertFile === null ? {} : { certFile: options.natsCertFile }),
          ...(options.natsKeyFile === null ? {} : { keyFile: options.natsKeyFile }),
        };
  const conn = await connectCluster({
    servers: options.natsServers,
    name,
    ...(options.natsUser === null ? {} : { user: options.natsUser }),
    ...(options.natsPassword === null ? {} : { pass: options.natsPassword }),
    ...(options.natsToken === null ? {} : { token: options.natsToken }),
    ...(tls === undefined ? {} : { tls }),
    onListenerError: (err) => log.error({ err }, 'a NATS status listener failed'),
  });
  const offDown = conn.onDisconnect((server) => {
    log.warn({ server }, 'NATS connection lost; publishers are blocked until it is back');
    broker.alarms.set('cluster', true);
  });
  const offUp = conn.onReconnect((server) => {
    log.info({ server }, 'NATS connection back; publishers unblocked');
    broker.alarms.set('cluster', false);
  });
  try {
    await broker.persistence.flush();
    const localRecords = (await store.recover()).topology;
    const node = await ClusterNode.start({
      conn,
      broker,
      name,
      replicas: options.replicas,
      ackWaitMs: options.ackWaitMs,
      logger: log,
      localRecords,
    });
    log.info({ servers: options.natsServers, version: conn.serverVersion }, 'cluster node started');
    return {
      node,
      conn,
      leave: async () => {
        offDown();
        offUp();
        await node.leave();
        await conn.close();
      },
    };
  } catch (err) {
    offDown();
    offUp();
    await conn.close().catch(() => {});
    throw err;
  }
}
