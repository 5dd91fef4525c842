#!/usr/bin/env node
'use strict';
// Runs the built CLI: `npx tsc -b packages/perf` produces ../dist.
require('../dist/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
