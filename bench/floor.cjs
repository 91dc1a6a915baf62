'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS like the credexec bin */
// The launcher's physical floor on the local backend: only the work credexec cannot skip — load
// node:crypto, read the master key and the store, unwrap and decrypt once, spawn the command and
// wait for it — with no CLI, manifest, checks or error handling. CommonJS, as bin/credexec.cjs is,
// so neither pays for Node's ESM loader. Start-up is compared against it.
const { createDecipheriv, createHmac } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawn } = require('node:child_process');

const dir = process.env.CREDEXEC_LOCAL_DIR;
const masterKey = readFileSync(join(dir, 'master.key'));
JSON.parse(readFileSync(join(dir, 'credential-store.json'), 'utf8'));
createHmac('sha256', masterKey).update('ciphertext').digest();
createDecipheriv('aes-256-ctr', masterKey, Buffer.alloc(16)).update('ciphertext');
const [command, ...args] = process.argv.slice(2);
spawn(command, args, { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 1));
