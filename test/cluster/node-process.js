'use strict';
// A Warren cluster node in a child process, for the kill -9 test:
// `node node-process.js <data-dir> <node-name> <ack-wait-ms> <nats-url>...`. Prints one JSON line with its
// ports once the listeners are open, then runs until killed.
// TypeScript sources are compiled on load (../support/ts-require.js), so the test needs no build step.
require('../support/ts-require');

const { defaultConfig, startServer } = require('@warren/server');
const [dataDir, nodeName, ackWaitMs, ...natsServers] = process.argv.slice(2);
const config = defaultConfig();
config.dataDir = dataDir;
for (const l of [config.amqp, config.stomp, config.ws, config.http, config.prometheus]) {
  l.port = 0;
  l.host = '127.0.0.1';
}
config.cluster.natsServers = natsServers;
config.cluster.nodeName = nodeName;
config.cluster.ackWaitMs = Number(ackWaitMs);
startServer(config).then(
  (server) => {
    const port = (name) => server.listeners.find((l) => l.name === name)?.address.port ?? 0;
    process.stdout.write(`${JSON.stringify({ amqpPort: port('amqp'), stompPort: port('stomp') })}\n`);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
