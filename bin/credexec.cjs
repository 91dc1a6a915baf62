#!/usr/bin/env node
'use strict';
/* global require */
// The CLI is bundled into dist/bundle by `npm run build` (scripts/bundle-cli.js). CommonJS all the
// way, so `credexec -- CMD` never starts Node's ESM loader; ./load-bundle.cjs loads it with V8's
// code cache kept between runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- this bin is CommonJS on purpose
const { main } = require('./load-bundle.cjs').loadBundle(process.argv.slice(2));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- this bin is CommonJS on purpose
const { writeSync } = require('node:fs');

// Should the event loop ever drain before main() settles, that is a failure, not a success, and
// it says so rather than exiting 1 in silence.
let settled = false;
process.exitCode = 1;
process.on('exit', () => {
  if (!settled) {
    writeSync(2, 'credexec: internal error: stopped with work unfinished\n');
  }
});
main(process.argv.slice(2)).then((code) => {
  settled = true;
  process.exitCode = code;
});
