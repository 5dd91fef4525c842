#!/usr/bin/env node
'use strict';
// Runs the built CLI: `npm run build` (tsc -b) produces ../dist.
require('../dist/cli').main(process.argv.slice(2));
