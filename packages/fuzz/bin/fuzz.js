#!/usr/bin/env node
'use strict';
// Runs the built fuzz CLI (`npm run build` produces ../dist): `npm run fuzz -- <target> --runs N`.
require('../dist/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
