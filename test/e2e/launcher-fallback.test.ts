import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { openBackend } from '../../src/backends/open-backend.js';
import { deleteSecrets } from '../../src/secrets/manage-secrets.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv, type CliResult } from '../support/cli.js';
import { startCli } from '../support/launcher.js';

/**
 * `--fallback` through the real bin, on both backends, with the same scenarios: a start from
 * the store writes the fallback; an outage starts from it; an old or incomplete one is refused
 * (125); a definite answer — not found, access denied, a refused key, a deleted table or store
 * file — removes it. Canary values never appear in the file or in any output.
 */
const DB_VALUE = 'canary-db-7Hq2-password';
const TOKEN_VALUE = 'canary-token-Zp91';
const CANARIES = [DB_VALUE, TOKEN_VALUE, 'canary-db-old'];
const MANIFEST = 'DB=app.db\nTOKEN=app.token@3\n';
const CHILD =
  "process.stdout.write(JSON.stringify({ DB: process.env.DB ?? null, TOKEN: process.env.TOKEN ?? null }) + '\\n')";
const GOT = `${JSON.stringify({ DB: DB_VALUE, TOKEN: TOKEN_VALUE })}\n`;
/** An age that reads the same for the next 30 seconds. */
const AGE_MS = (2 * 60 + 13) * 60_000 + 15_000;
const AGE = '2 h 13 min';

/** What a scenario needs from a backend; every method returns the way back. */
interface Place {
  readonly name: 'local' | 'aws';
  readonly dir: string;
  readonly env: Record<string, string | undefined>;
  readonly store: string;
  /** The store cannot answer; `causes` are the store messages a warning may quote. */
  outage(): { causes: readonly string[]; restore: () => void };
  deleteToken(): Promise<string>;
  denyStore(): { cause: string; restore: () => void };
  refuseKey(): { cause: string; restore: () => void };
  dropStore(): { cause: string; restore: () => void };
}

async function seed(backend: Backend): Promise<void> {
  await putSecret(backend, { name: 'app.db', value: 'canary-db-old', version: '1' });
  await putSecret(backend, { name: 'app.db', value: DB_VALUE, version: '2' });
  await putSecret(backend, { name: 'app.token', value: TOKEN_VALUE, version: '3' });
  await putSecret(backend, { name: 'app.new', value: 'new', version: '1' });
}

async function localPlace(): Promise<Place & { cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-fallback-local-'));
  const storeDir = join(dir, 'store');
  const backend = await openBackend({ backend: 'local', localDir: storeDir }, {});
  await backend.setup({});
  await seed(backend);
  const storeFile = join(storeDir, 'credential-store.json');
  const masterKey = join(storeDir, 'master.key');
  return {
    name: 'local',
    dir,
    env: cleanEnv({ CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: storeDir }),
    store: `store file ${storeFile}`,
    outage() {
      const saved = readFileSync(storeFile);
      writeFileSync(storeFile, saved.subarray(0, 40));
      return {
        causes: [`store file ${storeFile} is corrupt: not valid JSON; it was left untouched`],
        restore: () => writeFileSync(storeFile, saved),
      };
    },
    async deleteToken() {
      await deleteSecrets(backend, { name: 'app.token', version: '3' });
      return `credential "app.token" version 0000000000000000003 not found in store file ${storeFile}`;
    },
    denyStore() {
      chmodSync(storeFile, 0o622);
      return {
        cause: `store file ${storeFile} is writable by group or others (mode 0622); refusing to use it — run \`chmod go-w ${storeFile}\``,
        restore: () => chmodSync(storeFile, 0o600),
      };
    },
    refuseKey() {
      chmodSync(masterKey, 0o644);
      return {
        cause: `cannot decrypt credential "app.db" version 0000000000000000002: master key ${masterKey} is accessible to group or others (mode 0644); refusing to use it — run \`chmod 600 ${masterKey}\``,
        restore: () => chmodSync(masterKey, 0o600),
      };
    },
    dropStore() {
      renameSync(storeFile, `${storeFile}.away`);
      return {
        cause: `no store file ${storeFile} — run \`credexec setup --backend local\``,
        restore: () => {
          if (existsSync(`${storeFile}.away`)) renameSync(`${storeFile}.away`, storeFile);
        },
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function awsPlace(fixture: AwsFixture): Promise<Place & { cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-fallback-aws-'));
  const backend = await fixture.openBackend();
  await seed(backend);
  const where = 'table credential-store in eu-west-1';
  let env = cleanEnv({ ...fixture.env, AWS_MAX_ATTEMPTS: '1' });
  const place: Place & { cleanup(): void } = {
    name: 'aws',
    dir,
    get env() {
      return env;
    },
    store: where,
    outage() {
      fixture.dynamodb.failNext({ type: 'ThrottlingException', message: 'Rate exceeded' }, 1_000);
      return {
        causes: ['Query', 'BatchGetItem'].map(
          (operation) =>
            `${operation} on ${where}: DynamoDB is throttling requests; giving up after the retries`,
        ),
        restore: () => fixture.dynamodb.clearFaults(),
      };
    },
    async deleteToken() {
      await deleteSecrets(backend, { name: 'app.token', version: '3' });
      return `credential "app.token" version 0000000000000000003 not found in ${where}`;
    },
    denyStore() {
      fixture.dynamodb.failNext(
        { type: 'AccessDeniedException', message: 'not authorized' },
        1_000,
        'Query',
      );
      return {
        cause: `Query on ${where}: access denied; the caller needs dynamodb:Query (not authorized)`,
        restore: () => fixture.dynamodb.clearFaults(),
      };
    },
    refuseKey() {
      fixture.kms.setKeyEnabled('alias/credstash', false);
      return {
        cause: `cannot decrypt credential "app.db" version 0000000000000000002: kms:Decrypt (KMS in eu-west-1): the KMS key is disabled (${fixture.kms.defaultKey.arn} is disabled.)`,
        restore: () => fixture.kms.setKeyEnabled('alias/credstash', true),
      };
    },
    dropStore() {
      const saved = env;
      env = { ...env, CREDSTASH_DEFAULT_TABLE: 'deleted-table' };
      return {
        cause: 'table deleted-table not found in region eu-west-1 — run `credexec setup`',
        restore: () => {
          env = saved;
        },
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return place;
}

let fixture: AwsFixture;
const places: Record<string, Place & { cleanup(): void }> = {};

test.before(async () => {
  fixture = await startAwsFixture();
  places.local = await localPlace();
  places.aws = await awsPlace(fixture);
});

test.after.always(async () => {
  for (const place of Object.values(places)) place.cleanup();
  await fixture?.stop();
});

function launch(place: Place, args: readonly string[], manifest = MANIFEST): Promise<CliResult> {
  writeFileSync(join(place.dir, 'app.env'), manifest);
  return startCli(['-m', 'app.env', ...args, '--', process.execPath, '-e', CHILD], {
    env: place.env,
    cwd: place.dir,
  }).result;
}

/** A fresh fallback file from a start that reads the store; returns its path. */
async function warm(t: ExecutionContext, place: Place, name: string): Promise<string> {
  const path = join(place.dir, name);
  rmSync(path, { force: true });
  const result = await launch(place, ['--fallback', path]);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stderr, '');
  t.is(result.stdout, GOT);
  return path;
}

/** Make the fallback look `ms` old (or `ms` in the future, when negative). */
function age(path: string, ms: number): void {
  const data = JSON.parse(readFileSync(path, 'utf8')) as { written: string };
  data.written = new Date(Date.now() - ms).toISOString();
  writeFileSync(path, JSON.stringify(data));
}

function noCanaries(t: ExecutionContext, label: string, ...texts: string[]): void {
  for (const text of texts) {
    for (const value of CANARIES) {
      for (const form of [
        value,
        Buffer.from(value).toString('base64'),
        Buffer.from(value).toString('hex'),
      ]) {
        t.false(text.includes(form), `${label}: ${value}`);
      }
    }
  }
}

const unresolved = (lines: readonly string[]) =>
  `credexec: ${lines.length} secret(s) could not be resolved; nothing was started:\n${lines.map((line) => `  ${line}\n`).join('')}`;

for (const backend of ['local', 'aws'] as const) {
  test.serial(
    `${backend}: a start writes the raw items (0600, no value in any form); during an outage the next one starts from them, saying so once`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'outage.json');
      t.is(statSync(path).mode & 0o777, 0o600);
      const text = readFileSync(path, 'utf8');
      noCanaries(t, 'the fallback file', text);
      const file = JSON.parse(text) as { store: string; entries: { name: string }[] };
      t.is(file.store, place.store);
      t.deepEqual(
        file.entries.map((entry) => entry.name),
        ['app.db', 'app.token'],
      );
      age(path, AGE_MS);
      const written = readFileSync(path, 'utf8');
      const { causes, restore } = place.outage();
      t.teardown(restore);
      const result = await launch(place, ['--fallback', path]);
      restore();
      t.is(result.exitCode, 0, result.stderr);
      t.is(result.stdout, GOT);
      t.true(
        causes.some(
          (cause) =>
            result.stderr ===
            `credexec: warning: using the fallback ${path} (written ${AGE} ago) for 2 of 2 secret(s): ${cause}\n`,
        ),
        result.stderr,
      );
      t.is(readFileSync(path, 'utf8'), written, 'a start from the fallback does not rewrite it');
      noCanaries(t, 'output', result.stdout.replace(GOT, ''), result.stderr);
    },
  );

  test.serial(
    `${backend}: a fallback older than --fallback-max-age is refused with 125 and kept`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'old.json');
      age(path, 25 * 3_600_000 + 60_000);
      const { causes, restore } = place.outage();
      t.teardown(restore);
      const result = await launch(place, ['--fallback', path, '--fallback-max-age', '24h']);
      restore();
      t.is(result.exitCode, 125);
      t.is(result.stdout, '');
      const problem = `the fallback ${path} is older than its maximum age 24h (written 1 d 1 h ago)`;
      const [query, batch] = [causes[0]!, causes.at(-1)!];
      t.is(
        result.stderr,
        unresolved([
          `DB: app.db — ${query}; ${problem}`,
          `TOKEN: app.token@0000000000000000003 — ${batch}; ${problem}`,
        ]),
      );
      t.true(existsSync(path));
      // The same file within a longer maximum age is used.
      const longer = await (async () => {
        const again = place.outage();
        try {
          return await launch(place, ['--fallback', path, '--fallback-max-age', '2d']);
        } finally {
          again.restore();
        }
      })();
      t.is(longer.exitCode, 0, longer.stderr);
      t.is(longer.stdout, GOT);
    },
  );

  test.serial(
    `${backend}: a fallback without an entry the manifest needs is refused with 125, naming the entry`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'partial.json');
      const { causes, restore } = place.outage();
      t.teardown(restore);
      const result = await launch(place, ['--fallback', path], `${MANIFEST}NEW=app.new\n`);
      restore();
      t.is(result.exitCode, 125);
      t.is(result.stdout, '');
      const lines = result.stderr.split('\n');
      t.true(lines[0]!.startsWith(`credexec: warning: using the fallback ${path} (written `));
      t.true(lines[0]!.includes(') for 2 of 3 secret(s): '), lines[0]);
      t.is(
        lines.slice(1).join('\n'),
        unresolved([
          `NEW: app.new — ${causes[0]!}; the fallback ${path} has no entry for "app.new" (latest)`,
        ]),
      );
    },
  );

  test.serial(
    `${backend}: a credential the store no longer has removes the fallback: 125, never the old value`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'deleted.json');
      const cause = await place.deleteToken();
      t.teardown(async () => {
        const restored = await (backend === 'local'
          ? openBackend({ backend: 'local', localDir: place.env.CREDEXEC_LOCAL_DIR! }, {})
          : fixture.openBackend());
        await putSecret(restored, { name: 'app.token', value: TOKEN_VALUE, version: '3' });
      });
      const result = await launch(place, ['--fallback', path]);
      t.is(result.exitCode, 125);
      t.is(result.stdout, '');
      t.is(
        result.stderr,
        `credexec: warning: removed the fallback ${path}: ${cause}\n${unresolved([
          `TOKEN: app.token@0000000000000000003 — ${cause}`,
        ])}`,
      );
      t.false(existsSync(path));
      // And a later outage has nothing to start from.
      const { causes, restore } = place.outage();
      const after = await launch(place, ['--fallback', path]);
      restore();
      t.is(after.exitCode, 125);
      t.true(after.stderr.includes(`${causes[0]!}; the fallback ${path} does not exist`));
    },
  );

  test.serial(
    `${backend}: the store denying access removes the fallback and fails with 125`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'denied.json');
      const { cause, restore } = place.denyStore();
      t.teardown(restore);
      const result = await launch(place, ['--fallback', path]);
      restore();
      t.is(result.exitCode, 125);
      t.is(result.stdout, '');
      t.is(
        result.stderr.split('\n')[0],
        `credexec: warning: removed the fallback ${path}: ${cause}`,
      );
      t.true(result.stderr.includes(`\n  DB: app.db — ${cause}\n`), result.stderr);
      t.false(existsSync(path));
    },
  );

  test.serial(
    `${backend}: a refused key removes the fallback, from the store and during an outage alike`,
    async (t) => {
      const place = places[backend]!;
      for (const during of ['a working store', 'an outage']) {
        const path = await warm(t, place, 'key.json');
        const key = place.refuseKey();
        const outage = during === 'an outage' ? place.outage() : undefined;
        t.teardown(() => {
          key.restore();
          outage?.restore();
        });
        const result = await launch(place, ['--fallback', path]);
        key.restore();
        outage?.restore();
        t.is(result.exitCode, 125, during);
        t.is(result.stdout, '', during);
        t.is(
          result.stderr.split('\n')[0],
          `credexec: warning: removed the fallback ${path}: ${key.cause}`,
          during,
        );
        t.true(result.stderr.includes(`\n  DB: app.db — ${key.cause}\n`), result.stderr);
        t.false(existsSync(path), during);
        noCanaries(t, during, result.stderr);
      }
    },
  );

  test.serial(
    `${backend}: a deleted ${backend === 'aws' ? 'table' : 'store file'} removes the fallback and fails with 125`,
    async (t) => {
      const place = places[backend]!;
      const path = await warm(t, place, 'dropped.json');
      const { cause, restore } = place.dropStore();
      t.teardown(restore);
      const result = await launch(place, ['--fallback', path]);
      restore();
      t.is(result.exitCode, 125);
      t.is(
        result.stderr.split('\n')[0],
        `credexec: warning: removed the fallback ${path}: ${cause}`,
      );
      t.false(existsSync(path));
    },
  );
}

test.serial('aws: 5xx answers and an unreachable DynamoDB are outages too', async (t) => {
  const place = places.aws!;
  const path = await warm(t, place, 'servers.json');
  fixture.dynamodb.failNext({ type: 'InternalServerError', status: 500 }, 1_000);
  const failing = await launch(place, ['--fallback', path]);
  fixture.dynamodb.clearFaults();
  t.is(failing.exitCode, 0, failing.stderr);
  t.is(failing.stdout, GOT);
  t.regex(
    failing.stderr,
    /^credexec: warning: using the fallback .* for 2 of 2 secret\(s\): (Query|BatchGetItem) on table credential-store in eu-west-1 failed: InternalServerError \(InternalServerError\)\n$/,
  );
  writeFileSync(join(place.dir, 'app.env'), MANIFEST);
  const unreachable = await startCli(
    ['-m', 'app.env', '--fallback', path, '--', process.execPath, '-e', CHILD],
    { env: { ...place.env, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' }, cwd: place.dir },
  ).result;
  t.is(unreachable.exitCode, 0, unreachable.stderr);
  t.is(unreachable.stdout, GOT);
  t.regex(
    unreachable.stderr,
    /^credexec: warning: using the fallback .* for 2 of 2 secret\(s\): (Query|BatchGetItem) on table credential-store in eu-west-1: cannot reach DynamoDB/,
  );
});

test.serial(
  'aws: revoking kms:Decrypt still revokes access during an outage, and removes the fallback',
  async (t) => {
    const place = places.aws!;
    const path = await warm(t, place, 'revoked.json');
    const outage = place.outage();
    fixture.kms.deny('Decrypt');
    t.teardown(() => {
      outage.restore();
      fixture.kms.clearFaults();
    });
    const result = await launch(place, ['--fallback', path]);
    outage.restore();
    fixture.kms.clearFaults();
    t.is(result.exitCode, 125);
    t.is(result.stdout, '');
    t.regex(
      result.stderr,
      /^credexec: warning: removed the fallback .*: cannot decrypt credential "app\.db" version 0000000000000000002: kms:Decrypt \(KMS in eu-west-1\): access denied; the caller needs kms:Decrypt/,
    );
    t.false(existsSync(path));
  },
);

test.serial(
  'local: a JSON manifest sets the fallback in "$credexec", relative to itself; the flags win over it',
  async (t) => {
    const place = places.local!;
    const manifest = JSON.stringify({
      $credexec: { fallback: 'state/app.fallback', fallbackMaxAge: '1h' },
      DB: 'app.db',
      TOKEN: { name: 'app.token', version: '3' },
    });
    rmSync(join(place.dir, 'conf'), { recursive: true, force: true });
    const conf = join(place.dir, 'conf');
    const state = join(conf, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(conf, 'app.json'), manifest);
    const run = (args: string[]) =>
      startCli(['-m', 'conf/app.json', ...args, '--', process.execPath, '-e', CHILD], {
        env: place.env,
        cwd: place.dir,
      }).result;
    const first = await run([]);
    t.is(first.exitCode, 0, first.stderr);
    t.is(first.stdout, GOT);
    const path = join(state, 'app.fallback');
    t.true(existsSync(path));
    age(path, 2 * 3_600_000);
    const { causes, restore } = place.outage();
    t.teardown(restore);
    const refused = await run([]);
    t.is(refused.exitCode, 125);
    t.true(
      refused.stderr.includes(
        `${causes[0]!}; the fallback ${path} is older than its maximum age 1h (written 2 h ago)`,
      ),
      refused.stderr,
    );
    const flagged = await run(['--fallback-max-age', '3h']);
    t.is(flagged.exitCode, 0, flagged.stderr);
    t.is(flagged.stdout, GOT);
    const elsewhere = await run(['--fallback', join(place.dir, 'none.json')]);
    restore();
    t.is(elsewhere.exitCode, 125);
    t.true(
      elsewhere.stderr.includes(`the fallback ${join(place.dir, 'none.json')} does not exist`),
    );
  },
);

test.serial('local: fallback flags that cannot work are usage errors (exit 2)', async (t) => {
  const place = places.local!;
  const noFile = await launch(place, ['--fallback-max-age', '24h']);
  t.is(noFile.exitCode, 2);
  t.is(
    noFile.stderr,
    'credexec: --fallback-max-age needs a fallback file: --fallback FILE, or "fallback" in a JSON manifest\'s "$credexec" settings\n',
  );
  const badAge = await launch(place, ['--fallback', 'f.json', '--fallback-max-age', '1 day']);
  t.is(badAge.exitCode, 2);
  t.is(
    badAge.stderr,
    'credexec: --fallback-max-age must be a whole number above 0 and a unit: ms, s, m, h or d (e.g. 24h), not "1 day"\n',
  );
  t.false(existsSync(join(place.dir, 'f.json')));
});

test.serial(
  'local: many starts writing one fallback at once leave one whole file, and a reader never sees a part',
  async (t) => {
    const place = places.local!;
    const path = join(place.dir, 'fleet.json');
    rmSync(path, { force: true });
    const runs = Array.from({ length: 12 }, () => launch(place, ['--fallback', path]));
    let reads = 0;
    let settled = false;
    const all = Promise.all(runs).finally(() => {
      settled = true;
    });
    while (!settled) {
      if (existsSync(path)) {
        // Any whole file parses; a torn one would not.
        JSON.parse(readFileSync(path, 'utf8'));
        reads++;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (const result of await all) {
      t.is(result.exitCode, 0, result.stderr);
      t.is(result.stderr, '');
    }
    t.true(reads > 0, 'the file was read while being replaced');
    t.is((JSON.parse(readFileSync(path, 'utf8')) as { entries: unknown[] }).entries.length, 2);
    t.deepEqual(
      readdirSync(place.dir).filter((name) => name.includes('fleet.json')),
      ['fleet.json'],
      'no temporary file is left behind',
    );
  },
);
