import test from 'ava';
import { execa } from 'execa';
import { cleanEnv } from '../support/cli.js';
import { REPO_ROOT } from '../support/vectors.js';

test('the README quick start demo sets up, stores, reads back and runs a child with the secret', async (t) => {
  const result = await execa('bash', ['examples/local-quickstart.sh'], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    extendEnv: false,
    reject: false,
  });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /created master key/);
  t.regex(result.stdout, /demo\.db\.password has been stored as version 0000000000000000001/);
  t.regex(
    result.stdout,
    /\$ credexec get demo\.db\.password env=demo\ncorrect horse battery staple\n/,
  );
  t.regex(result.stdout, /DB_PASSWORD +demo\.db\.password +0000000000000000001 +ok/);
  t.regex(result.stdout, /DB_PASSWORD: set, 28 chars$/);
});
