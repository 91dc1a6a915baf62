import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { cleanEnv } from '../support/cli.js';
import { REPO_ROOT } from '../support/vectors.js';

/**
 * What users get from npm: pack the package as `npm publish` would (from the tree `npm test` has
 * just built), install the tarball into a fresh prefix, and use it there — the installed CLI on
 * the local backend and as the launcher, the shipped quick start, and the library from a separate
 * ESM project, types included. Dependencies come from npm's cache (`npm ci` filled it).
 */
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Installed {
  readonly root: string;
  readonly prefix: string;
  readonly tarball: string;
  readonly files: readonly string[];
}

let installed: Installed;

/** npm runs with the Node that runs the tests first on PATH (CI runs the suite on several). */
function npmEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return cleanEnv({
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? tmpdir(), '.npm'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  });
}

test.before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'credexec-install-'));
  // --ignore-scripts: prepack would rebuild dist/ under the feet of the other tests; npm test
  // built it moments ago, and a test below checks that prepack builds.
  const pack = await execa(
    NPM,
    ['pack', '--ignore-scripts', '--json', '--pack-destination', root],
    { cwd: REPO_ROOT, env: npmEnv(), extendEnv: false },
  );
  const [report] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  const tarball = join(root, report.filename);
  const prefix = join(root, 'prefix');
  mkdirSync(prefix);
  await execa(
    NPM,
    ['install', '--prefix', prefix, '--prefer-offline', '--loglevel=error', tarball],
    {
      env: npmEnv(),
      extendEnv: false,
    },
  );
  installed = {
    root,
    prefix,
    tarball,
    files: report.files.map(({ path }) => path),
  };
});

test.after.always(() => {
  if (installed !== undefined) rmSync(installed.root, { recursive: true, force: true });
});

function installedBin(): string {
  return join(installed.prefix, 'node_modules', '.bin', 'credexec');
}

function localEnv(dir: string): Record<string, string | undefined> {
  return npmEnv({ CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: join(dir, 'store') });
}

test('the package holds the built CLI, the library, docs and legal files, and nothing unused', (t) => {
  const { files } = installed;
  for (const path of [
    'bin/credexec.cjs',
    'dist/bundle/credexec.cjs',
    'dist/index.js',
    'dist/index.d.ts',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'SECURITY.md',
    'docs/launcher.md',
    'examples/local-quickstart.sh',
  ]) {
    t.true(files.includes(path), `${path} is missing from the package`);
  }
  t.deepEqual(
    files.filter((path) => /^(src|test|bench|scripts)\/|^dist\/cli\//.test(path)),
    [],
  );
});

test('npm publish accepts package.json as it is, without auto-correcting anything', async (t) => {
  // --offline: a dry run needs no registry; without it npm still tries to reach one.
  const publish = await execa(NPM, ['publish', '--dry-run', '--ignore-scripts', '--offline'], {
    cwd: REPO_ROOT,
    env: npmEnv(),
    extendEnv: false,
    reject: false,
  });
  t.is(publish.exitCode, 0, publish.stderr);
  t.regex(publish.stdout + publish.stderr, /credexec@/);
  t.notRegex(publish.stderr, /auto-corrected|invalid and removed|pkg fix/);
});

test('prepack builds, so an unbuilt tree cannot be published without dist/', (t) => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  t.is(manifest.scripts.prepack, 'npm run build');
});

test('the installed package installs only what its artifacts load', (t) => {
  const manifest = JSON.parse(
    readFileSync(join(installed.prefix, 'node_modules', 'credexec', 'package.json'), 'utf8'),
  ) as { dependencies: Record<string, string> };
  t.deepEqual(Object.keys(manifest.dependencies).sort(), [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-kms',
    '@aws-sdk/core',
    '@aws-sdk/credential-providers',
    'dotenv',
  ]);
});

test('the installed credexec stores, reads back and launches on the local backend', async (t) => {
  const dir = mkdtempSync(join(installed.root, 'use-'));
  const env = localEnv(dir);
  const run = (args: string[], input = '') =>
    execa(installedBin(), args, { env, extendEnv: false, cwd: dir, input, reject: false });
  t.is((await run(['setup'])).exitCode, 0);
  const put = await run(['put', 'app.token', '-'], 'installed-value');
  t.is(put.exitCode, 0, put.stderr);
  const get = await run(['get', 'app.token']);
  t.is(get.stdout, 'installed-value');
  writeFileSync(join(dir, 'credexec.env'), 'APP_TOKEN=app.token\n');
  const launched = await run(['--', 'sh', '-c', 'printf %s "$APP_TOKEN"; exit 7']);
  t.is(launched.exitCode, 7);
  t.is(launched.stdout, 'installed-value');
  t.is(
    (await run(['--version'])).stdout.trim(),
    JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version,
  );
});

test('the quick start shipped in the package runs from node_modules without sources', async (t) => {
  const script = join(
    installed.prefix,
    'node_modules',
    'credexec',
    'examples',
    'local-quickstart.sh',
  );
  const result = await execa('bash', [script], {
    env: npmEnv(),
    extendEnv: false,
    cwd: installed.root,
    reject: false,
  });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /DB_PASSWORD: set, 28 chars/);
  t.notRegex(result.stdout + result.stderr, /npm ci|npm run|build/);
});

test('a separate ESM project imports the library, with its types', async (t) => {
  const project = installed.prefix;
  const dir = mkdtempSync(join(installed.root, 'lib-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(
    join(project, 'use.ts'),
    [
      "import { getSecret, putSecret, setup, NotFoundError, type ConnectionOptions } from 'credexec';",
      `const local: ConnectionOptions = { backend: 'local', localDir: ${JSON.stringify(join(dir, 'store'))} };`,
      'await setup(local);',
      "await putSecret({ ...local, name: 'lib.secret', value: 'from-the-library' });",
      "const value: string = await getSecret({ ...local, name: 'lib.secret' });",
      "try { await getSecret({ ...local, name: 'lib.missing' }); } catch (error: unknown) {",
      '  if (!(error instanceof NotFoundError)) throw error;',
      "  process.stdout.write(value + ' ' + error.code);",
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: ['node'],
        // The consumer's own @types/node (this repository's, as a project would have its own).
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
        skipLibCheck: false,
        noEmit: false,
        outDir: 'out',
      },
      files: ['use.ts'],
    }),
  );
  const tsc = await execa(process.execPath, [TSC, '-p', project], { cwd: project, reject: false });
  t.is(tsc.exitCode, 0, tsc.stdout + tsc.stderr);
  const ran = await execa(process.execPath, [join(project, 'out', 'use.js')], {
    cwd: project,
    env: npmEnv(),
    extendEnv: false,
    reject: false,
  });
  t.is(ran.exitCode, 0, ran.stderr);
  t.is(ran.stdout, 'from-the-library NOT_FOUND');
});
