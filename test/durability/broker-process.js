'use strict';
// A durable broker in a child process, for the kill -9 tests: `node broker-process.js <data-dir> [segment-size]`.
// Prints one JSON line with its ports once the listeners are open, then runs until killed.
// TypeScript sources are compiled on load with @swc/core (as jest does), so the test needs no build step.
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const m = /^@warren\/([a-z-]+)$/.exec(request);
  const target = m === null ? request : path.join(root, 'packages', m[1], 'src', 'index.ts');
  return resolve.call(this, target, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

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
