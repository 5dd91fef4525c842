'use strict';
// A durable broker in a child process, for the kill -9 tests: `node broker-process.js <data-dir> [segment-size]`.
// Prints one JSON line with its ports once the listeners are open, then runs until killed.
// TypeScript sources are compiled on load (../support/ts-require.js), so the test needs no build step.
require('../support/ts-require');

const { startDurableBroker } = require('./durable-broker.ts');
const dir = process.argv[2];
const segmentSize = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
startDurableBroker(dir, { segmentSize }).then(
  (b) => process.stdout.write(`${JSON.stringify({ amqpPort: b.amqpPort, stompPort: b.stompPort })}\n`),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
