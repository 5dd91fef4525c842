#!/usr/bin/env node
/**
 * Starts a local NATS cluster for demos and benchmarks: N (3) nats-server processes with JetStream, on free
 * ports, storage under the system's temporary directory. Prints the client URLs and the servers' names, then
 * runs until Ctrl-C (or SIGTERM), which stops every server and removes the directory.
 *
 *   npm run build && node packages/cluster/scripts/nats-cluster.mjs [--servers N]
 */
import clusterLib from '@warren/cluster';

const { startNatsCluster } = clusterLib;

const i = process.argv.indexOf('--servers');
const servers = i >= 0 ? Number(process.argv[i + 1]) : 3;

const cluster = await startNatsCluster({ servers });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.stdout.write('stopped\n');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
try {
  await cluster.ready();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  await stop();
}
process.stdout.write(
  `NATS cluster ready: ${cluster.names.join(', ')} (JetStream, files in ${cluster.dir})\n`,
);
process.stdout.write(`${cluster.urls.join(',')}\n`);
process.stdout.write('Ctrl-C stops it.\n');
// Keep the process alive until a signal.
setInterval(() => undefined, 1 << 30);
