#!/usr/bin/env node
// The CLI is bundled into dist/bundle by `npm run build` (scripts/bundle-cli.js).
import { main } from '../dist/bundle/credexec.js';

process.exitCode = await main(process.argv.slice(2));
