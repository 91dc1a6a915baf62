import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { runCli, tempLocalDir } from '../support/cli.js';

async function withLocal(
  run: (local: { store: string; env: Record<string, string | undefined> }) => Promise<void>,
) {
  const { dir, env, cleanup } = tempLocalDir();
  try {
    const setup = await runCli(['setup'], { env });
    if (setup.exitCode !== 0) throw new Error(setup.stderr);
    const put = await runCli(['put', 'api', 'v1'], { env });
    if (put.exitCode !== 0) throw new Error(put.stderr);
    await run({ store: join(dir, 'store'), env });
  } finally {
    cleanup();
  }
}

test('a master key owned by another user is refused by the CLI and the launcher, naming the fix', async (t) => {
  await withLocal(async ({ store, env }) => {
    const key = join(store, 'master.key');
    chownSync(key, 65534, 65534);
    const reason = `master key ${key} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${key}\` if you trust it`;
    const get = await runCli(['get', 'api'], { env });
    t.is(get.exitCode, 1);
    t.is(
      get.stderr,
      `credexec: cannot decrypt credential "api" version 0000000000000000001: ${reason}\n`,
    );
    writeFileSync(join(store, 'credexec.env'), 'API=api\n');
    const run = await runCli(['-m', join(store, 'credexec.env'), '--', 'true'], { env });
    t.is(run.exitCode, 125);
    t.is(
      run.stderr,
      `credexec: 1 secret(s) could not be resolved; nothing was started:\n  API: api — cannot decrypt credential "api" version 0000000000000000001: ${reason}\n`,
    );
  });
});

test('a store file owned by another user is refused, naming the fix', async (t) => {
  await withLocal(async ({ store, env }) => {
    const file = join(store, 'credential-store.json');
    chownSync(file, 65534, 65534);
    const list = await runCli(['list'], { env });
    t.is(list.exitCode, 1);
    t.is(
      list.stderr,
      `credexec: store file ${file} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${file}\` if you trust it\n`,
    );
  });
});

test('a local directory that others can write to is refused by every command, naming the fix', async (t) => {
  await withLocal(async ({ store, env }) => {
    chmodSync(store, 0o777);
    const reason = `local directory ${store} is writable by group or others (mode 0777); refusing to use it — run \`chmod go-w ${store}\``;
    const list = await runCli(['list'], { env });
    t.is(list.exitCode, 1);
    t.is(list.stderr, `credexec: ${reason}\n`);
    const put = await runCli(['put', 'other', 'v'], { env });
    t.is(put.exitCode, 1);
    t.is(put.stderr, `credexec: cannot encrypt credential "other": ${reason}\n`);
    const setup = await runCli(['setup'], { env });
    t.is(setup.exitCode, 1);
    t.is(setup.stderr, `credexec: ${reason}\n`);
    chmodSync(store, 0o700);
    const get = await runCli(['get', 'api'], { env });
    t.is(get.stdout, 'v1\n');
  });
});
