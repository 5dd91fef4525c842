'use strict';
// For test programs run as child processes (kill -9 tests): makes require() load the TypeScript sources, with
// @warren/<pkg> resolved to packages/<pkg>/src/index.ts and .ts compiled on load with @swc/core, as jest does,
// so no build step is needed. `require('../support/ts-require')` first, then require the .ts modules.
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
