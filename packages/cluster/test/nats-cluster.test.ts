import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { freePort, startNatsCluster } from '@warren/cluster';

/*
 * The test cluster harness itself: the ports it hands out, and what ready() says when a server cannot run.
 * Neither needs nats-server: a port is only probed, and the failing "server" is /bin/false.
 */
describe('the NATS test cluster harness', () => {
  test('hands out ports below the ephemeral range, which outgoing connections never take', async () => {
    const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(1024);
      expect(port).toBeLessThan(Number(low));
    }
    // Free indeed: each can be listened on.
    for (const port of ports.slice(0, 3)) {
      const srv = createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((r) => srv.close(r));
    }
  });

  test('ready() fails at once, naming the server, when one exits by itself', async () => {
    // A wait longer than this test's own timeout: only an answer at once passes.
    const cluster = await startNatsCluster({ servers: 2, binary: '/bin/false', readyTimeoutMs: 120_000 });
    try {
      await expect(cluster.ready()).rejects.toThrow(/nats-server n[12] exited by itself \(code 1\)/);
    } finally {
      await cluster.stop();
    }
  });
});
