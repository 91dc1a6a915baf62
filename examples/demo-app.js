#!/usr/bin/env node
// A stand-in for your server: reports which secrets credexec gave it without printing them.
// Usage: node demo-app.js [--wait] [VARIABLE…]   (--wait: run until SIGTERM/SIGINT, like a server)
import { readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const wait = args.includes('--wait');
const names = args.filter((arg) => arg !== '--wait');
const expected =
  names.length > 0
    ? names
    : ['DB_PASSWORD', 'API_TOKEN', 'TLS_KEY_FILE', 'SENTRY_DSN', 'BILLING_KEY', 'DATABASE_URL'];

const say = (line) => process.stdout.write(`${line}\n`);

/** The length only: enough to see that a secret arrived, nothing of the secret itself. */
function masked(value) {
  return `${value.length} chars`;
}

function describe(name) {
  const value = process.env[name];
  if (value === undefined) return 'not set';
  if (name.endsWith('_FILE')) {
    const mode = (statSync(value).mode & 0o777).toString(8).padStart(4, '0');
    return `file ${value}, mode ${mode}, content ${masked(readFileSync(value, 'utf8'))}`;
  }
  return `set, ${masked(value)}`;
}

for (const name of expected) say(`${name}: ${describe(name)}`);

if (wait) {
  say(`demo-app: pid ${process.pid} waiting for SIGTERM or SIGINT`);
  const stop = (signal) => {
    say(`demo-app: received ${signal}, shutting down`);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => {}, 60_000);
}
