#!/usr/bin/env node
'use strict';
/* global require */
// The CLI is bundled into dist/bundle by `npm run build` (scripts/bundle-cli.js). CommonJS all the
// way, so `credexec -- CMD` never starts Node's ESM loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- this bin is CommonJS on purpose
const { main } = require('../dist/bundle/credexec.cjs');

// Should the event loop ever drain before main() settles, that is a failure, not a success.
process.exitCode = 1;
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
