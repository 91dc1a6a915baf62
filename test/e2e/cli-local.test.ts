import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { BIN, runCli, tempLocalDir, type CliResult } from '../support/cli.js';

const CANARY = 'canary-Zq8-never-print-me';

async function withStore(
  run: (ctx: {
    dir: string;
    env: Record<string, string | undefined>;
    cli: (args: string[], input?: string | Buffer) => Promise<CliResult>;
  }) => Promise<void>,
) {
  const local = tempLocalDir();
  const cli = (args: string[], input?: string | Buffer) =>
    runCli(args, { env: local.env, ...(input === undefined ? {} : { input }) });
  try {
    const setup = await cli(['setup']);
    if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    await run({ dir: join(local.dir, 'store'), env: local.env, cli });
  } finally {
    local.cleanup();
  }
}

test('--version prints the package version and --help lists every command', async (t) => {
  const version = await runCli(['--version']);
  t.is(version.exitCode, 0);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await runCli(['--help']);
  t.is(help.exitCode, 0);
  for (const command of ['setup', 'put', 'putall', 'get', 'getall', 'list', 'keys', 'delete']) {
    t.regex(help.stdout, new RegExp(`credexec ${command}`));
  }
});

for (const command of ['setup', 'put', 'putall', 'get', 'getall', 'list', 'keys', 'delete']) {
  test(`credexec ${command} --help describes the command and exits 0`, async (t) => {
    const result = await runCli([command, '--help']);
    t.is(result.exitCode, 0);
    t.regex(result.stdout, new RegExp(`credexec ${command}`));
    t.is(result.stderr, '');
  });
}

test('setup creates a 0600 master key and store in a 0700 directory and is idempotent', async (t) => {
  const local = tempLocalDir();
  try {
    const first = await runCli(['setup'], { env: local.env });
    t.is(first.exitCode, 0, first.stderr);
    t.regex(first.stdout, /created master key/);
    const dir = join(local.dir, 'store');
    t.is(statSync(dir).mode & 0o777, 0o700);
    t.is(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    t.is(statSync(join(dir, 'credential-store.json')).mode & 0o777, 0o600);
    const key = readFileSync(join(dir, 'master.key'));
    const second = await runCli(['setup'], { env: local.env });
    t.is(second.exitCode, 0);
    t.regex(second.stdout, /already set up/);
    t.deepEqual(readFileSync(join(dir, 'master.key')), key);
  } finally {
    local.cleanup();
  }
});

test('commands before setup fail with a hint and create nothing', async (t) => {
  const local = tempLocalDir();
  try {
    const result = await runCli(['put', 'x', 'y'], { env: local.env });
    t.is(result.exitCode, 1);
    t.regex(result.stderr, /run `credexec setup --backend local`/);
    t.deepEqual(readdirSync(local.dir), []);
  } finally {
    local.cleanup();
  }
});

test('put then get returns the value, with a newline unless -n', async (t) => {
  await withStore(async ({ cli }) => {
    const put = await cli(['put', 'db.password', 'hunter2 é']);
    t.is(put.exitCode, 0, put.stderr);
    t.is(put.stdout, 'db.password has been stored as version 0000000000000000001\n');
    t.is((await cli(['get', 'db.password'])).stdout, 'hunter2 é\n');
    t.is((await cli(['get', '-n', 'db.password'])).stdout, 'hunter2 é');
  });
});

test('values from stdin and @FILE are stored byte for byte', async (t) => {
  await withStore(async ({ cli, dir }) => {
    const bytes = 'line one\r\nline two\rlone\n\n';
    t.is((await cli(['put', 'from-stdin', '-'], bytes)).exitCode, 0);
    t.is((await cli(['get', '-n', 'from-stdin'])).stdout, bytes);
    const file = join(dir, '..', 'value.txt');
    writeFileSync(file, bytes);
    t.is((await cli(['put', 'from-file', `@${file}`])).exitCode, 0);
    t.is((await cli(['get', '-n', 'from-file'])).stdout, bytes);
  });
});

test('an encryption context must match on get', async (t) => {
  await withStore(async ({ cli }) => {
    t.is((await cli(['put', 'api', CANARY, 'env=prod', 'app=web'])).exitCode, 0);
    t.is((await cli(['get', 'api', 'app=web', 'env=prod'])).stdout, `${CANARY}\n`);
    const wrong = await cli(['get', 'api', 'env=dev']);
    t.is(wrong.exitCode, 1);
    t.regex(wrong.stderr, /"api" version 0000000000000000001.*encryption context/);
    t.false(wrong.stderr.includes(CANARY));
  });
});

test('versions are immutable: a duplicate put fails and leaves the first value', async (t) => {
  await withStore(async ({ cli }) => {
    await cli(['put', 'k', 'first']);
    const duplicate = await cli(['put', 'k', CANARY]);
    t.is(duplicate.exitCode, 1);
    t.regex(duplicate.stderr, /"k" version 0000000000000000001 already exists/);
    t.false(duplicate.stderr.includes(CANARY));
    t.is((await cli(['get', 'k'])).stdout, 'first\n');
  });
});

test('-a stores the next version, -v pins one, and get -v reads it padded or not', async (t) => {
  await withStore(async ({ cli }) => {
    await cli(['put', 'k', 'one']);
    t.is(
      (await cli(['put', '-a', 'k', 'two'])).stdout,
      'k has been stored as version 0000000000000000002\n',
    );
    await cli(['put', '-v', '10', 'k', 'ten']);
    t.is((await cli(['get', 'k'])).stdout, 'ten\n');
    t.is((await cli(['get', 'k', '-v', '2'])).stdout, 'two\n');
    t.is((await cli(['get', 'k', '-v', '0000000000000000001'])).stdout, 'one\n');
    const missing = await cli(['get', 'k', '-v', '3']);
    t.is(missing.exitCode, 1);
    t.regex(missing.stderr, /"k" version 0000000000000000003 not found/);
  });
});

test('20 concurrent put -a processes on one name leave exactly versions 1 to 20', async (t) => {
  await withStore(async ({ cli }) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => cli(['put', '-a', 'race', `value-${index}`])),
    );
    t.deepEqual(
      results.map((result) => result.exitCode),
      Array(20).fill(0),
      results.map((r) => r.stderr).join(''),
    );
    const list = await cli(['list']);
    const versions = list.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' -- version ')[1]!.split(' ')[0]);
    t.deepEqual(
      versions,
      Array.from({ length: 20 }, (_, index) => String(index + 1).padStart(19, '0')),
    );
    const stored = new Set<string>();
    for (let version = 1; version <= 20; version++)
      stored.add((await cli(['get', '-n', 'race', '-v', String(version)])).stdout);
    t.is(stored.size, 20);
  });
});

test('wildcard get prints matches in each format and no match prints {}', async (t) => {
  await withStore(async ({ cli }) => {
    await cli(['put', 'app.db', 'one']);
    await cli(['put', 'app.api-key', "it's"]);
    await cli(['put', 'other', 'x']);
    t.is(
      (await cli(['get', 'app.*'])).stdout,
      '{\n    "app.api-key": "it\'s",\n    "app.db": "one"\n}\n',
    );
    t.is(
      (await cli(['get', 'app.*', '-f', 'dotenv'])).stdout,
      `APP_API_KEY="it's"\nAPP_DB='one'\n`,
    );
    t.is((await cli(['get', 'app.*', '-f', 'csv'])).stdout, "app.api-key,it's\r\napp.db,one\r\n");
    t.is((await cli(['get', 'app.*', '-f', 'yaml'])).stdout, 'app.api-key: "it\'s"\napp.db: one\n');
    const none = await cli(['get', 'nothing.*']);
    t.is(none.exitCode, 0);
    t.is(none.stdout, '{}\n');
    t.is((await cli(['get', 'app.d?'])).exitCode, 1, '? is literal, not a wildcard');
  });
});

test('getall prints the latest of every credential; one failing credential fails the command', async (t) => {
  await withStore(async ({ cli }) => {
    await cli(['put', 'a', 'old']);
    await cli(['put', '-a', 'a', 'new']);
    await cli(['put', 'b', 'bee']);
    t.is((await cli(['getall'])).stdout, '{\n    "a": "new",\n    "b": "bee"\n}\n');
    await cli(['put', 'c', CANARY, 'env=prod']);
    const failing = await cli(['getall']);
    t.is(failing.exitCode, 1);
    t.regex(failing.stderr, /c: cannot decrypt credential "c"/);
    t.is(failing.stdout, '');
    t.false(failing.stderr.includes(CANARY));
  });
});

test('list, keys and delete behave like credstash', async (t) => {
  await withStore(async ({ cli }) => {
    await cli(['put', 'zeta', 'z', '-c', 'last one']);
    await cli(['put', 'a', '1']);
    await cli(['put', '-a', 'a', '2']);
    t.is(
      (await cli(['list'])).stdout,
      'a    -- version 0000000000000000001 -- comment \na    -- version 0000000000000000002 -- comment \nzeta -- version 0000000000000000001 -- comment last one\n',
    );
    t.is((await cli(['keys'])).stdout, 'a\nzeta\n');
    t.is(
      (await cli(['delete', 'a', '-v', '1'])).stdout,
      'Deleting a -- version 0000000000000000001\n',
    );
    t.is((await cli(['delete', 'zeta'])).stdout, 'Deleting zeta -- version 0000000000000000001\n');
    t.is((await cli(['keys'])).stdout, 'a\n');
    const missing = await cli(['delete', 'zeta']);
    t.is(missing.exitCode, 1);
    t.regex(missing.stderr, /"zeta" not found/);
  });
});

test('putall stores every entry of a JSON object from stdin', async (t) => {
  await withStore(async ({ cli }) => {
    const result = await cli(['putall', '-', 'env=prod'], JSON.stringify({ one: '1', two: '2' }));
    t.is(result.exitCode, 0, result.stderr);
    t.is((await cli(['getall', 'env=prod', '-f', 'csv'])).stdout, 'one,1\r\ntwo,2\r\n');
    const bad = await cli(['putall', '{"x": 1}']);
    t.is(bad.exitCode, 2);
    t.regex(bad.stderr, /"x" must be a string/);
  });
});

test('usage errors exit 2 with one message line', async (t) => {
  for (const args of [
    ['--bogus'],
    ['get'],
    ['put', 'x'],
    ['get', 'x', 'notcontext'],
    ['put', 'x', 'y', '-d', 'SHA3'],
    ['getall', '-f', 'xml'],
    ['--backend', 'cloud', 'list'],
  ]) {
    const result = await runCli(args);
    t.is(result.exitCode, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, /^credexec: [^\n]+\n$/, args.join(' '));
  }
});

test('a tampered item fails with an integrity error naming the credential and version', async (t) => {
  await withStore(async ({ cli, dir }) => {
    await cli(['put', 'tampered', CANARY]);
    const path = join(dir, 'credential-store.json');
    const store = JSON.parse(readFileSync(path, 'utf8')) as {
      items: { contents: { S: string } }[];
    };
    const contents = Buffer.from(store.items[0]!.contents.S, 'base64');
    contents[0]! ^= 1;
    store.items[0]!.contents.S = contents.toString('base64');
    writeFileSync(path, JSON.stringify(store));
    const result = await cli(['get', 'tampered']);
    t.is(result.exitCode, 1);
    t.regex(
      result.stderr,
      /integrity check failed for credential "tampered" version 0000000000000000001/,
    );
    t.is(result.stdout, '');
  });
});

test('a corrupt store file is reported, not overwritten', async (t) => {
  await withStore(async ({ cli, dir }) => {
    const path = join(dir, 'credential-store.json');
    writeFileSync(path, '{"format": "credexec-local-store", "items": [');
    const result = await cli(['put', 'x', 'y']);
    t.is(result.exitCode, 1);
    t.regex(result.stderr, /store file .*credential-store\.json is corrupt: not valid JSON/);
    t.is(readFileSync(path, 'utf8'), '{"format": "credexec-local-store", "items": [');
  });
});

test('an unreadable store file is reported with its path and cause, and left alone', async (t) => {
  await withStore(async ({ cli, dir }) => {
    const path = join(dir, 'credential-store.json');
    rmSync(path);
    mkdirSync(path);
    const cause = `cannot read store file ${path}: EISDIR`;
    for (const [args, prefix] of [
      [['get', 'x'], 'cannot read credential "x": '],
      [['put', 'x', 'y'], 'cannot store credential "x" version 0000000000000000001: '],
      [['list'], ''],
    ] as const) {
      const result = await cli([...args]);
      t.is(result.exitCode, 1, args.join(' '));
      t.is(result.stderr, `credexec: ${prefix}${cause}\n`, args.join(' '));
    }
    t.true(statSync(path).isDirectory());
  });
});

test('a master key readable by others is refused; a missing one asks for setup', async (t) => {
  await withStore(async ({ cli, dir }) => {
    await cli(['put', 'x', 'y']);
    chmodSync(join(dir, 'master.key'), 0o644);
    const open = await cli(['get', 'x']);
    t.is(open.exitCode, 1);
    t.regex(open.stderr, /master key .* is accessible to group or others \(mode 0644\)/);
    writeFileSync(join(dir, 'master.key'), '');
    chmodSync(join(dir, 'master.key'), 0o600);
    const corrupt = await cli(['get', 'x']);
    t.is(corrupt.exitCode, 1);
    t.regex(corrupt.stderr, /master key .* is corrupt/);
  });
});

test('the -t table name selects another local store file', async (t) => {
  await withStore(async ({ cli, dir }) => {
    t.is((await cli(['-t', 'team', 'setup'])).exitCode, 0);
    await cli(['put', 'x', 'in-team', '-t', 'team']);
    t.is((await cli(['get', 'x', '--table', 'team'])).stdout, 'in-team\n');
    t.is((await cli(['get', 'x'])).exitCode, 1);
    t.is(statSync(join(dir, 'team.json')).mode & 0o777, 0o600);
  });
});

test('no secret value ever reaches stderr, even with CREDEXEC_DEBUG set', async (t) => {
  await withStore(async ({ env }) => {
    const debug = { ...env, CREDEXEC_DEBUG: '1' };
    const outputs = [
      await runCli(['put', 'c', CANARY, 'env=a'], { env: debug }),
      await runCli(['put', 'c', CANARY, 'env=a'], { env: debug }),
      await runCli(['get', 'c', 'env=b'], { env: debug }),
      await runCli(['getall'], { env: debug }),
      await runCli(['get', 'c*', 'env=b'], { env: debug }),
    ];
    for (const output of outputs) t.false(output.stderr.includes(CANARY), output.stderr);
    t.true(outputs.slice(1).every((output) => output.exitCode === 1));
  });
});

test('should credexec ever stop with work unfinished, it exits 1 and says so', async (t) => {
  const local = tempLocalDir();
  t.teardown(local.cleanup);
  // A preload makes every fs.readFile hang: reading the manifest never finishes and nothing else
  // keeps the process alive.
  const preload = join(local.dir, 'hang-readfile.cjs');
  writeFileSync(preload, "require('node:fs').readFile = () => undefined;\n");
  writeFileSync(join(local.dir, 'm.env'), 'A=a\n');
  const result = await execa(process.execPath, ['-r', preload, BIN, '-m', 'm.env', '--', 'true'], {
    env: local.env,
    extendEnv: false,
    cwd: local.dir,
    reject: false,
  });
  t.is(result.exitCode, 1);
  t.is(result.stderr, 'credexec: internal error: stopped with work unfinished');
  t.is(result.stdout, '');
});
