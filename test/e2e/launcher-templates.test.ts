import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Backend } from '../../src/backends/backend.js';
import { putSecret } from '../../src/secrets/put-secret.js';
import { startAwsFixture, type AwsFixture } from '../support/aws-fixture.js';
import { cleanEnv } from '../support/cli.js';
import { runLauncherCli, secretDirs, startCli, withWorld } from '../support/launcher.js';

const CANARY = 'canary-Tm9-do-not-leak';
const COMPOSED = `postgres://app:${CANARY}@db:5432/app`;

/** Neither a referenced value nor the value composed from it appears in any of `texts`. */
function leaks(...texts: string[]): boolean {
  return texts.some((text) => text.includes(CANARY) || text.includes(COMPOSED));
}

test('templates reach the child composed, in the environment or in a file, with literal text left alone', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db.password', 'old', '1');
    await world.put('app.db.password', CANARY, '2');
    await world.put('app.db.user', 'app', '1');
    const marker = join(world.dir, 'pwned');
    world.manifest(
      'credexec.env',
      [
        'DATABASE_URL:=postgres://{{app.db.user}}:{{ app.db.password }}@db:5432/app',
        'OLD_URL:=postgres://{{app.db.user}}:{{app.db.password@1}}@db:5432/app',
        `LITERAL:='{{{{not a reference}} $(touch ${marker}) \${HOME} {{app.db.user}}'`,
        'DB_PASSWORD=app.db.password',
      ].join('\n'),
    );
    const json = world.manifest(
      'extra.json',
      JSON.stringify({
        PGPASS_FILE: { template: 'db:5432:app:{{app.db.user}}:{{app.db.password}}\n', file: true },
        MAYBE_URL: { template: 'https://{{app.db.user}}:{{not-there}}@x', optional: true },
      }),
    );
    const result = await runLauncherCli(
      world,
      [
        '-m',
        'credexec.env',
        '-m',
        json,
        '--',
        'node',
        world.child,
        'report',
        'DATABASE_URL',
        'OLD_URL',
        'LITERAL',
        'DB_PASSWORD',
        'PGPASS_FILE',
        'MAYBE_URL',
      ],
      { MAYBE_URL: 'stale-from-parent' },
    );
    t.is(result.stderr, '');
    t.is(result.exitCode, 0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    const file = report.PGPASS_FILE as { path: string };
    t.deepEqual(report, {
      DATABASE_URL: COMPOSED,
      OLD_URL: 'postgres://app:old@db:5432/app',
      LITERAL: `{{not a reference}} $(touch ${marker}) \${HOME} app`,
      DB_PASSWORD: CANARY,
      PGPASS_FILE: { path: file.path, mode: '600', content: `db:5432:app:app:${CANARY}\n` },
      MAYBE_URL: null,
    });
    t.false(existsSync(marker), 'nothing in a template is ever run');
    t.false(existsSync(file.path));
    t.deepEqual(secretDirs(world), []);
  });
});

test('a template whose references fail exits 125 naming each one, and the command never runs', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db.password', CANARY, '1');
    await world.put('binary', Buffer.from([0xc3, 0x28]), '5');
    world.manifest(
      'credexec.json',
      JSON.stringify({
        DATABASE_URL: { template: 'postgres://app:{{app.db.password}}@db/{{app.db.name@2}}' },
        KEY_FILE: { template: 'key={{binary}}', file: true },
        OK: { template: 'fine:{{app.db.password}}' },
      }),
    );
    const marker = join(world.dir, 'ran');
    const result = await runLauncherCli(world, [
      '-m',
      'credexec.json',
      '--',
      'node',
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]);
    t.is(result.exitCode, 125);
    const store = join(world.dir, 'store', 'credential-store.json');
    t.is(
      result.stderr,
      [
        'credexec: 2 secret(s) could not be resolved; nothing was started:',
        `  DATABASE_URL: {{app.db.name@0000000000000000002}} — credential "app.db.name" version 0000000000000000002 not found in store file ${store}`,
        '  KEY_FILE: {{binary}} — credential "binary" version 0000000000000000005 is not valid UTF-8, so it cannot be part of a template; give it an entry of its own with "file": true',
        '',
      ].join('\n'),
    );
    t.false(existsSync(marker));
    t.deepEqual(secretDirs(world), []);
    t.false(leaks(result.stdout, result.stderr));
    const debug = await runLauncherCli(world, ['-m', 'credexec.json', '--', 'true'], {
      CREDEXEC_DEBUG: '1',
    });
    t.is(debug.exitCode, 125);
    t.false(leaks(debug.stdout, debug.stderr));
  });
});

test('template mistakes and a dangerous composed variable exit 125 with file and line', async (t) => {
  await withWorld(async (world) => {
    world.manifest(
      'bad.env',
      [
        'DATABASE_URL:=postgres://app:{{app.db.password@db/app',
        'NODE_OPTIONS:=--require {{preload}}',
        'PLAIN=fine',
      ].join('\n'),
    );
    const result = await runLauncherCli(world, ['-m', 'bad.env', '--', 'true']);
    t.is(result.exitCode, 125);
    t.is(
      result.stderr,
      [
        'credexec: bad.env:1: variable DATABASE_URL: template: "{{" at character 16 is never closed by "}}" (a literal "{{" is written "{{{{")',
        'bad.env:2: variable NODE_OPTIONS is refused: Node.js loads code or data from it, or writes files where it says (allow it with --allow-var NODE_OPTIONS)',
        '',
      ].join('\n'),
    );
    await world.put('preload', '/opt/app/tracing.js', '1');
    world.manifest('allowed.env', 'NODE_OPTIONS:=--require {{preload}}\n');
    const allowed = await runLauncherCli(world, [
      '-m',
      'allowed.env',
      '--allow-var',
      'NODE_OPTIONS',
      '--',
      'sh',
      '-c',
      'printf %s "$NODE_OPTIONS"',
    ]);
    t.is(allowed.exitCode, 0, allowed.stderr);
    t.is(allowed.stdout, '--require /opt/app/tracing.js');
  });
});

test('check lists each template with every reference and its version, never a value', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.db.password', CANARY, '3');
    await world.put('app.db.user', 'app', '1');
    world.manifest(
      'credexec.env',
      [
        'DB_USER=app.db.user',
        'DATABASE_URL:=postgres://{{app.db.user}}:{{app.db.password}}@db:5432/app',
      ].join('\n'),
    );
    const ok = await runLauncherCli(world, ['check']);
    t.is(ok.exitCode, 0, ok.stderr);
    t.is(
      ok.stdout,
      [
        'VARIABLE      CREDENTIAL           VERSION              STATUS',
        'DB_USER       app.db.user          0000000000000000001  ok',
        'DATABASE_URL  template                                  ok',
        '              {{app.db.user}}      0000000000000000001  ok',
        '              {{app.db.password}}  0000000000000000003  ok',
        '',
      ].join('\n'),
    );
    world.manifest('broken.env', 'URL:={{app.db.password}}@{{gone}}\n');
    const broken = await runLauncherCli(world, ['check', '-m', 'broken.env']);
    t.is(broken.exitCode, 125);
    const store = join(world.dir, 'store', 'credential-store.json');
    t.is(
      broken.stdout,
      [
        'VARIABLE  CREDENTIAL           VERSION              STATUS',
        'URL       template                                  FAILED: 1 of 2 reference(s)',
        '          {{app.db.password}}  0000000000000000003  ok',
        `          {{gone}}             latest               FAILED: credential "gone" not found in store file ${store}`,
        '',
      ].join('\n'),
    );
    t.false(leaks(ok.stdout, ok.stderr, broken.stdout, broken.stderr));
  });
});

// The aws backend: dynalite behind a counting proxy, and the test KMS.
let fixture: AwsFixture;
let backend: Backend;
let dir: string;

test.before(async () => {
  fixture = await startAwsFixture();
  backend = await fixture.openBackend();
  dir = mkdtempSync(join(tmpdir(), 'credexec-template-aws-'));
  await putSecret(backend, { name: 'app.db.password', value: 'old', version: '1' });
  await putSecret(backend, { name: 'app.db.password', value: CANARY, version: '2' });
  await putSecret(backend, { name: 'app.db.user', value: 'app', version: '1' });
  await putSecret(backend, {
    name: 'app.api.key',
    value: 'prod-key',
    version: '1',
    context: { env: 'prod' },
  });
});

test.after.always(async () => {
  rmSync(dir, { recursive: true, force: true });
  await fixture?.stop();
});

function launchAws(manifest: string, text: string, args: readonly string[]) {
  writeFileSync(join(dir, manifest), text);
  fixture.resetCounters();
  return startCli(['-m', manifest, ...args], { env: cleanEnv(fixture.env), cwd: dir }).result;
}

test.serial(
  'on aws, templates and plain entries share one batch: one read and one Decrypt per distinct reference',
  async (t) => {
    const text = JSON.stringify({
      DB_PASSWORD: 'app.db.password',
      OLD_PASSWORD: { name: 'app.db.password', version: '1' },
      DATABASE_URL: { template: 'postgres://{{app.db.user}}:{{app.db.password}}@db:5432/app' },
      OLD_URL: { template: 'postgres://{{app.db.user}}:{{app.db.password@1}}@db:5432/app' },
      API_URL: { template: 'https://{{app.api.key}}@api', context: { env: 'prod' } },
    });
    const script =
      'console.log([process.env.DATABASE_URL, process.env.OLD_URL, process.env.API_URL].join(" ") === process.argv[1] ? "same" : "different")';
    const expected = `${COMPOSED} postgres://app:old@db:5432/app https://prod-key@api`;
    const result = await launchAws('aws.json', text, [
      '--',
      process.execPath,
      '-e',
      script,
      expected,
    ]);
    t.is(result.stderr, '');
    t.is(result.exitCode, 0);
    t.is(result.stdout, 'same\n');
    t.is(fixture.dynamodb.count('BatchGetItem'), 1, 'app.db.password@1, once');
    t.is(fixture.dynamodb.count('Query'), 3, 'app.db.password, app.db.user and app.api.key');
    t.is(fixture.kms.count('Decrypt'), 4, 'one per distinct reference');
  },
);

test.serial('on aws, a failing reference exits 125 and check lists the references', async (t) => {
  const text = 'DATABASE_URL:=postgres://app:{{app.db.password}}@db/{{app.db.name}}\n';
  const failed = await launchAws('fail.env', text, ['--', 'true']);
  t.is(failed.exitCode, 125);
  t.is(
    failed.stderr,
    [
      'credexec: 1 secret(s) could not be resolved; nothing was started:',
      `  DATABASE_URL: {{app.db.name}} — credential "app.db.name" not found in table ${fixture.table} in ${fixture.region}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'check.env'),
    'DATABASE_URL:=postgres://{{app.db.user}}:{{app.db.password}}@db:5432/app\n',
  );
  const check = await startCli(['check', '-m', 'check.env'], {
    env: cleanEnv(fixture.env),
    cwd: dir,
  }).result;
  t.is(check.exitCode, 0, check.stderr);
  t.is(
    check.stdout,
    [
      'VARIABLE      CREDENTIAL           VERSION              STATUS',
      'DATABASE_URL  template                                  ok',
      '              {{app.db.user}}      0000000000000000001  ok',
      '              {{app.db.password}}  0000000000000000002  ok',
      '',
    ].join('\n'),
  );
  t.false(leaks(failed.stdout, failed.stderr, check.stdout, check.stderr));
});
