import { connectCluster, startNatsCluster, type ClusterConnection, type NatsCluster } from '@warren/cluster';

/** Polls `check` until it is true or the deadline passes (then throws with `what`). */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ClusterFixture {
  cluster: NatsCluster;
  conn: ClusterConnection;
  /** Extra connections made with connect(), closed by close(). */
  connect(): Promise<ClusterConnection>;
  close(): Promise<void>;
}

/** A 3-server cluster, ready, and one connection to all of it. */
export async function clusterFixture(servers = 3): Promise<ClusterFixture> {
  const cluster = await startNatsCluster({ servers });
  const conns: ClusterConnection[] = [];
  try {
    await cluster.ready();
    const connect = async (): Promise<ClusterConnection> => {
      const c = await connectCluster({ servers: cluster.urls, name: `test-${conns.length}` });
      conns.push(c);
      return c;
    };
    const conn = await connect();
    return {
      cluster,
      conn,
      connect,
      close: async () => {
        await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
        await cluster.stop();
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
