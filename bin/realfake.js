#!/usr/bin/env node
'use strict';
// The CLI is compiled from lib/cli/*.ts into dist/ by `npm run build` (run automatically by npm install/ci).
let cli;
try {
  cli = require('../dist/lib/cli/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]lib[\\/]cli[\\/]main/.test(err.message)) {
    process.stderr.write('realfake: not built yet; run `npm run build` (or `npm install`) first\n');
    process.exit(1);
  }
  throw err;
}
cli.main(process.argv).catch((err) => {
  process.stderr.write(`realfake: ${String((err && err.message) || err).split('\n')[0]}\n`);
  process.exit(1);
});
