import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv } from '../support/cli.js';
import { startCli } from '../support/launcher.js';

// `--exec` on the aws backend (dynalite + the test KMS): the same promises as on the local one.
const hasExecve = typeof (process as { execve?: unknown }).execve === 'function';

let fixture: AwsFixture;
let backend: Backend;
let dir: string;

test.before(async () => {
  fixture = await startAwsFixture();
  backend = await fixture.openBackend();
  dir = mkdtempSync(join(tmpdir(), 'credexec-exec-aws-'));
  for (let i = 0; i < 5; i++) {
    await putSecret(backend, { name: `secret-${i}`, value: `aws-exec-canary-${i}`, version: '1' });
  }
});

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fixture?.stop();
});

function launch(manifest: string, args: readonly string[]) {
  return startCli(['-m', manifest, ...args], { env: cleanEnv(fixture.env), cwd: dir });
}

(hasExecve ? test.serial : test.serial.skip)(
  'the command gets its secrets with credexec’s pid, and no connection to DynamoDB or KMS survives',
  async (t) => {
    writeFileSync(
      join(dir, 'five.env'),
      [0, 1, 2, 3, 4].map((i) => `VAR_${i}=secret-${i}@1\n`).join(''),
    );
    // What any process started from here gets, descriptors included (no pipeline: the shell's
    // pipes would be descriptors of its own).
    const list = 'ls /proc/$$/fd';
    const given = spawnSync('sh', ['-c', list], { encoding: 'utf8' }).stdout;
    fixture.resetCounters();
    const started = launch('five.env', [
      '--exec',
      '--',
      'sh',
      '-c',
      `echo "$$ $VAR_0 $VAR_4"; ${list}`,
    ]);
    const result = await started.result;
    t.is(result.exitCode, 0, result.stderr);
    t.is(result.stderr, '');
    const [first, ...fds] = result.stdout.split('\n');
    t.is(first, `${started.process.pid} aws-exec-canary-0 aws-exec-canary-4`);
    // The sockets credexec used are gone: only what it was given reaches the command.
    t.is(fds.join('\n'), given);
    t.is(fixture.dynamodb.count('BatchGetItem'), 1);
    t.is(fixture.kms.count('Decrypt'), 5);
  },
);

(hasExecve ? test.serial : test.serial.skip)(
  '"file": true entries are refused with exit 2 before any request to DynamoDB or KMS',
  async (t) => {
    writeFileSync(
      join(dir, 'files.json'),
      JSON.stringify({
        VAR_0: 'secret-0@1',
        TLS_KEY: { name: 'secret-1', version: '1', file: true },
      }),
    );
    fixture.resetCounters();
    const result = await launch('files.json', ['--exec', '--', 'true']).result;
    t.is(result.exitCode, 2);
    t.is(
      result.stderr,
      'credexec: --exec cannot be used with "file": true entries (TLS_KEY): nothing would remove the files once the command has replaced credexec; run without --exec or put these secrets in the environment\n',
    );
    t.is(fixture.dynamodb.count(), 0);
    t.is(fixture.kms.count(), 0);
  },
);

(hasExecve ? test.serial : test.serial.skip)(
  'a secret that does not resolve exits 125 with --exec as without it, and nothing runs',
  async (t) => {
    writeFileSync(join(dir, 'missing.env'), 'VAR_0=secret-0@1\nGONE=no-such-secret\n');
    const marker = join(dir, 'ran');
    const plain = await launch('missing.env', ['--', 'touch', marker]).result;
    const replaced = await launch('missing.env', ['--exec', '--', 'touch', marker]).result;
    t.is(plain.exitCode, 125);
    t.deepEqual(replaced, plain);
    t.false(replaced.stderr.includes('aws-exec-canary'));
    t.is(spawnSync('test', ['-e', marker]).status, 1);
  },
);

(hasExecve ? test.skip : test)(
  'on a Node without process.execve, --exec is refused before any request to DynamoDB or KMS',
  async (t) => {
    writeFileSync(join(dir, 'one.env'), 'VAR_0=secret-0@1\n');
    fixture.resetCounters();
    const result = await launch('one.env', ['--exec', '--', 'true']).result;
    t.deepEqual(
      [result.exitCode, result.stderr],
      [
        2,
        `credexec: --exec needs Node ≥ 22.15 (process.execve); this is Node ${process.versions.node}\n`,
      ],
    );
    t.is(fixture.dynamodb.count() + fixture.kms.count(), 0);
  },
);
