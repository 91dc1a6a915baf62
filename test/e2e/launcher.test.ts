import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { runCli } from '../support/cli.js';
import {
  runLauncherCli,
  secretDirs,
  startCli,
  waitForFile,
  withWorld,
} from '../support/launcher.js';

const CANARY = 'canary-7Hq-do-not-leak';

test('secrets reach the child: latest, pinned, context, optional-missing unset, files 0600 and removed', async (t) => {
  await withWorld(async (world) => {
    await world.put('db-password', 'old-password', '1');
    await world.put('db-password', 'new-password', '2');
    await world.put('tls-key', '-----BEGIN KEY-----', '1');
    await world.put('scoped', 'prod-only', '1', { env: 'prod' });
    world.manifest('credexec.env', 'DB_PASSWORD=db-password\nDB_OLD=db-password@1\n');
    const json = world.manifest(
      'extra.json',
      JSON.stringify({
        TLS_KEY_FILE: { name: 'tls-key', file: true },
        SCOPED: { name: 'scoped', context: { env: 'prod' } },
        MAYBE: { name: 'not-there', optional: true },
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
        'DB_PASSWORD',
        'DB_OLD',
        'TLS_KEY_FILE',
        'SCOPED',
        'MAYBE',
      ],
      { MAYBE: 'stale-from-parent' },
    );
    t.is(result.stderr, '');
    t.is(result.exitCode, 0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    const file = report.TLS_KEY_FILE as { path: string; mode: string; content: string };
    t.deepEqual(report, {
      DB_PASSWORD: 'new-password',
      DB_OLD: 'old-password',
      TLS_KEY_FILE: { path: file.path, mode: '600', content: '-----BEGIN KEY-----' },
      SCOPED: 'prod-only',
      MAYBE: null,
    });
    t.regex(file.path, new RegExp(`^${world.runtimeDir}/credexec-\\d+-[0-9a-f]{16}/TLS_KEY_FILE$`));
    t.false(existsSync(file.path));
    t.deepEqual(secretDirs(world), []);
  });
});

test('the default manifest is ./credexec.env and --context applies to entries without their own', async (t) => {
  await withWorld(async (world) => {
    await world.put('scoped', 'with-context', '1', { team: 'web' });
    world.manifest('credexec.env', 'SCOPED=scoped\n');
    const result = await runLauncherCli(world, [
      'run',
      '--context',
      'team=web',
      '--',
      'node',
      world.child,
      'report',
      'SCOPED',
    ]);
    t.is(result.exitCode, 0, result.stderr);
    t.deepEqual(JSON.parse(result.stdout), { SCOPED: 'with-context' });
    const envVar = await runLauncherCli(
      world,
      ['--context', 'team=web', '--', 'node', world.child, 'report', 'SCOPED'],
      { CREDEXEC_MANIFEST: join(world.cwd, 'credexec.env') },
    );
    t.deepEqual(JSON.parse(envVar.stdout), { SCOPED: 'with-context' });
  });
});

test('a missing default manifest fails with 125 and starts nothing', async (t) => {
  await withWorld(async (world) => {
    const marker = join(world.dir, 'ran');
    const result = await runLauncherCli(world, [
      '--',
      'node',
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]);
    t.is(result.exitCode, 125);
    t.is(
      result.stderr,
      'credexec: ./credexec.env: no manifest: ./credexec.env does not exist (name one with -m FILE or CREDEXEC_MANIFEST; an empty file runs the command with no secrets)\n',
    );
    t.false(existsSync(marker));
  });
});

test('failed secrets exit 125 naming every failure, one line each, and the command never runs', async (t) => {
  await withWorld(async (world) => {
    await world.put('good', CANARY, '1');
    await world.put('scoped', CANARY, '1', { env: 'prod' });
    world.manifest(
      'credexec.json',
      JSON.stringify({
        GOOD: 'good',
        MISSING: 'missing',
        PINNED: { name: 'good', version: '7' },
        WRONG_CONTEXT: { name: 'scoped', context: { env: 'dev' }, optional: true },
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
        'credexec: 3 secret(s) could not be resolved; nothing was started:',
        `  MISSING: missing — credential "missing" not found in store file ${store}`,
        `  PINNED: good@0000000000000000007 — credential "good" version 0000000000000000007 not found in store file ${store}`,
        '  WRONG_CONTEXT: scoped — cannot decrypt credential "scoped" version 0000000000000000001: the data key cannot be unwrapped with this encryption context (wrong or missing context?)',
        '',
      ].join('\n'),
    );
    t.is(result.stdout, '');
    t.false(existsSync(marker));
    t.false(result.stderr.includes(CANARY));
  });
});

test('manifest mistakes exit 125 with file and line, and dangerous variables need --allow-var', async (t) => {
  await withWorld(async (world) => {
    await world.put('opts', '--max-old-space-size=64', '1');
    world.manifest(
      'bad.env',
      'GOOD=opts\nnot a line\nNODE_OPTIONS=opts\nCREDEXEC_X=opts\nnpm_config_registry=opts\nSSLKEYLOGFILE=opts\n',
    );
    const bad = await runLauncherCli(world, ['-m', 'bad.env', '--', 'true']);
    t.is(bad.exitCode, 125);
    t.is(
      bad.stderr,
      [
        'credexec: bad.env:2: malformed line: expected VAR=credential-name, VAR=name@VERSION or VAR:=template',
        'bad.env:3: variable NODE_OPTIONS is refused: Node.js loads code or data from it, or writes files where it says (allow it with --allow-var NODE_OPTIONS)',
        'bad.env:4: variable CREDEXEC_X is refused: CREDEXEC_* variables configure credexec and are never passed on',
        'bad.env:5: variable npm_config_registry is refused: the package manager takes settings from it, such as the registry code is installed from (allow it with --allow-var npm_config_registry)',
        'bad.env:6: variable SSLKEYLOGFILE is refused: TLS libraries write their session keys to the file it names, so traffic can be decrypted (allow it with --allow-var SSLKEYLOGFILE)',
        '',
      ].join('\n'),
    );
    world.manifest('ok.env', 'NODE_OPTIONS=opts\n');
    const allowed = await runLauncherCli(world, [
      '-m',
      'ok.env',
      '--allow-var',
      'NODE_OPTIONS',
      '--',
      'node',
      world.child,
      'report',
      'NODE_OPTIONS',
    ]);
    t.is(allowed.exitCode, 0, allowed.stderr);
    t.deepEqual(JSON.parse(allowed.stdout), { NODE_OPTIONS: '--max-old-space-size=64' });
  });
});

test('a command that is not found exits 127 and one that is not executable exits 126', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const missing = await runLauncherCli(world, ['--', 'credexec-no-such-command']);
    t.is(missing.exitCode, 127);
    t.is(missing.stderr, 'credexec: credexec-no-such-command: command not found (ENOENT)\n');
    const notExecutable = world.manifest('data.txt', 'not a program');
    const denied = await runLauncherCli(world, ['--', notExecutable]);
    t.is(denied.exitCode, 126);
    t.is(
      denied.stderr,
      `credexec: ${notExecutable}: permission denied or not executable (EACCES)\n`,
    );
  });
});

test("the child's exit code is credexec's", async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const result = await runLauncherCli(world, ['--', 'node', world.child, 'exit', '42']);
    t.is(result.exitCode, 42);
    t.is(result.stderr, '');
  });
});

test('a child killed by SIGPIPE makes credexec die of SIGPIPE too, although Node ignores it', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const result = await runLauncherCli(world, ['--', 'sh', '-c', 'kill -PIPE $$']);
    t.is(result.signal, 'SIGPIPE');
    t.is(result.exitCode, null);
    t.is(result.stderr, '');
  });
});

test('a child killed by SIGKILL makes credexec die of SIGKILL, which a shell sees as 137', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const direct = await runLauncherCli(world, ['--', 'node', world.child, 'kill', 'SIGKILL']);
    t.is(direct.signal, 'SIGKILL');
    t.is(direct.exitCode, null);
    const viaShell = execFileSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "$0" -- node "$1" kill SIGKILL; echo $?`,
        join(process.cwd(), 'bin', 'credexec.cjs'),
        world.child,
      ],
      {
        cwd: world.cwd,
        env: world.env as NodeJS.ProcessEnv,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.is(viaShell, '137\n');
  });
});

test('SIGTERM, SIGUSR1, SIGHUP and SIGINT sent to credexec each reach the child exactly once', async (t) => {
  await withWorld(async (world) => {
    await world.put('tls-key', CANARY, '1');
    world.manifest('credexec.json', JSON.stringify({ KEY_FILE: { name: 'tls-key', file: true } }));
    const cli = startCli(['-m', 'credexec.json', '--', 'node', world.child, 'signals', world.dir], {
      env: world.env,
      cwd: world.cwd,
    });
    await waitForFile(join(world.dir, 'ready'));
    t.is(secretDirs(world).length, 1);
    for (const signal of ['SIGUSR1', 'SIGHUP', 'SIGINT'] as const) {
      cli.process.kill(signal);
      await sleep(100);
    }
    t.is(
      secretDirs(world).length,
      0,
      'SIGINT (stdin is not a TTY, so it is forwarded) removes secret files',
    );
    cli.process.kill('SIGTERM');
    const result = await cli.result;
    t.is(result.exitCode, 0, result.stderr);
    t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), {
      SIGUSR1: 1,
      SIGHUP: 1,
      SIGINT: 1,
      SIGTERM: 1,
    });
    t.deepEqual(secretDirs(world), []);
  });
});

test('secret files are removed when credexec gets SIGTERM, and credexec dies of the signal the child dies of', async (t) => {
  await withWorld(async (world) => {
    await world.put('tls-key', CANARY, '1');
    world.manifest('credexec.json', JSON.stringify({ KEY_FILE: { name: 'tls-key', file: true } }));
    const cli = startCli(['-m', 'credexec.json', '--', 'node', world.child, 'hold', world.dir], {
      env: world.env,
      cwd: world.cwd,
    });
    await waitForFile(join(world.dir, 'ready'));
    t.is(secretDirs(world).length, 1);
    cli.process.kill('SIGTERM');
    const result = await cli.result;
    t.is(result.signal, 'SIGTERM');
    t.deepEqual(secretDirs(world), []);
  });
});

test('--pristine gives the child only the secrets and PATH, and no CREDEXEC_ variable ever reaches it', async (t) => {
  await withWorld(async (world) => {
    await world.put('api-key', 'k', '1');
    world.manifest('credexec.env', 'API_KEY=api-key\n');
    const pristine = await runLauncherCli(world, ['--pristine', '--', 'node', world.child, 'env'], {
      EXTRA: 'x',
    });
    t.is(pristine.exitCode, 0, pristine.stderr);
    t.deepEqual(JSON.parse(pristine.stdout), { PATH: world.env.PATH, API_KEY: 'k' });
    const inherited = await runLauncherCli(world, ['--', 'node', world.child, 'env'], {
      EXTRA: 'x',
      CREDEXEC_CONCURRENCY: '4',
    });
    const env = JSON.parse(inherited.stdout) as Record<string, string>;
    t.is(env.EXTRA, 'x');
    t.is(env.API_KEY, 'k');
    t.deepEqual(
      Object.keys(env).filter((name) => name.startsWith('CREDEXEC_')),
      [],
    );
  });
});

test('check prints variable, credential and version without values, and fails with 125', async (t) => {
  await withWorld(async (world) => {
    await world.put('db', CANARY, '1');
    await world.put('db', `${CANARY}-2`, '2');
    world.manifest('credexec.env', 'DB=db\nDB_OLD=db@1\n');
    const ok = await runLauncherCli(world, ['check']);
    t.is(ok.exitCode, 0, ok.stderr);
    t.is(
      ok.stdout,
      [
        'VARIABLE  CREDENTIAL  VERSION              STATUS',
        'DB        db          0000000000000000002  ok',
        'DB_OLD    db          0000000000000000001  ok',
        '',
      ].join('\n'),
    );
    world.manifest('broken.env', 'DB=db\nGONE=gone\n');
    const broken = await runLauncherCli(world, ['check', '-m', 'broken.env']);
    t.is(broken.exitCode, 125);
    t.regex(
      broken.stdout,
      /^GONE {6}gone {8}latest {15}FAILED: credential "gone" not found in store file /m,
    );
    t.false(
      ok.stdout.includes(CANARY) ||
        broken.stdout.includes(CANARY) ||
        broken.stderr.includes(CANARY),
    );
  });
});

test('a canary value never appears in credexec output, ps arguments or debug output', async (t) => {
  await withWorld(async (world) => {
    await world.put('canary', CANARY, '1');
    world.manifest('credexec.env', 'CANARY_VAR=canary\n');
    const env = { ...world.env, CREDEXEC_DEBUG: '1' };
    const cli = startCli(['--', 'node', world.child, 'hold', world.dir], { env, cwd: world.cwd });
    await waitForFile(join(world.dir, 'ready'));
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    t.true(ps.includes(world.child), 'the child is visible to ps');
    t.false(ps.includes(CANARY));
    cli.process.kill('SIGTERM');
    const result = await cli.result;
    t.is(result.signal, 'SIGTERM');
    t.false(result.stdout.includes(CANARY));
    t.false(result.stderr.includes(CANARY));
    const check = await runLauncherCli(world, ['check'], { CREDEXEC_DEBUG: '1' });
    t.false(check.stdout.includes(CANARY) || check.stderr.includes(CANARY));
  });
});

// A run killed with SIGKILL while its command runs: test/e2e/secret-files-sweep.test.ts.
test('an empty secret directory of a run killed before it could listen is swept once it is old', async (t) => {
  await withWorld(async (world) => {
    const stale = join(world.runtimeDir, 'credexec-999999999-0123456789abcdef');
    mkdirSync(stale);
    const anHourAgo = Date.now() / 1000 - 3600;
    utimesSync(stale, anHourAgo, anHourAgo);
    world.manifest('credexec.env', '');
    const result = await runLauncherCli(world, ['--', 'true']);
    t.is(result.exitCode, 0, result.stderr);
    t.false(existsSync(stale));
  });
});

test('--concurrency must be a positive whole number', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const result = await runLauncherCli(world, ['--concurrency', '0', '--', 'true']);
    t.is(result.exitCode, 2);
    t.is(result.stderr, 'credexec: --concurrency must be a whole number from 1 to 1024\n');
    const fromEnv = await runLauncherCli(world, ['--', 'true'], { CREDEXEC_CONCURRENCY: 'many' });
    t.is(fromEnv.stderr, 'credexec: CREDEXEC_CONCURRENCY must be a whole number from 1 to 1024\n');
  });
});

test('context keys named like Object.prototype members are kept by put, get and the launcher', async (t) => {
  await withWorld(async (world) => {
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    for (const [index, key] of keys.entries()) {
      const name = `scoped-${index}`;
      const cli = (args: string[]) => runCli(args, { env: world.env, cwd: world.cwd });
      const put = await cli(['put', name, `value-${index}`, `${key}=x`]);
      t.is(put.exitCode, 0, put.stderr);
      const withContext = await cli(['get', name, `${key}=x`]);
      t.is(withContext.stdout, `value-${index}\n`, key);
      const without = await cli(['get', name]);
      t.is(without.exitCode, 1, key);
      t.is(
        without.stderr,
        `credexec: cannot decrypt credential "${name}" version 0000000000000000001: the data key cannot be unwrapped with this encryption context (wrong or missing context?)\n`,
        key,
      );
      world.manifest(
        `${index}.json`,
        JSON.stringify({ FROM_JSON: { name, context: Object.fromEntries([[key, 'x']]) } }),
      );
      world.manifest(`${index}.env`, `FROM_FLAG=${name}\n`);
      const launched = await runLauncherCli(world, [
        '-m',
        `${index}.json`,
        '-m',
        `${index}.env`,
        '--context',
        `${key}=x`,
        '--',
        'node',
        world.child,
        'report',
        'FROM_JSON',
        'FROM_FLAG',
      ]);
      t.is(launched.exitCode, 0, launched.stderr);
      t.deepEqual(JSON.parse(launched.stdout), {
        FROM_JSON: `value-${index}`,
        FROM_FLAG: `value-${index}`,
      });
    }
  });
});

test('values that are not text fail as environment variables, naming the resolved version, and files stay byte-exact', async (t) => {
  await withWorld(async (world) => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3]);
    await world.put('latin1', 'was text', '1');
    await world.put('latin1', latin1, '2');
    await world.put('nul', Buffer.from('a\0b'), '1');
    await world.put('binary', binary, '1');
    await world.put('text', 'zürich ✓', '1');
    world.manifest(
      'credexec.json',
      JSON.stringify({
        LATIN1: 'latin1',
        NUL_VALUE: { name: 'nul', version: '1' },
        MISSING: 'missing',
        BINARY_FILE: { name: 'binary', file: true },
        TEXT: 'text',
      }),
    );
    const marker = join(world.dir, 'ran');
    const failed = await runLauncherCli(world, [
      '-m',
      'credexec.json',
      '--',
      'node',
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]);
    const store = join(world.dir, 'store', 'credential-store.json');
    t.is(failed.exitCode, 125);
    t.is(
      failed.stderr,
      [
        'credexec: 3 secret(s) could not be resolved; nothing was started:',
        '  LATIN1: latin1 — credential "latin1" version 0000000000000000002 is not valid UTF-8, so it cannot be an environment variable; use "file": true',
        '  NUL_VALUE: nul@0000000000000000001 — credential "nul" version 0000000000000000001 contains a NUL byte, so it cannot be an environment variable; use "file": true',
        `  MISSING: missing — credential "missing" not found in store file ${store}`,
        '',
      ].join('\n'),
    );
    t.false(existsSync(marker));

    const check = await runLauncherCli(world, ['check', '-m', 'credexec.json']);
    t.is(check.exitCode, 125);
    t.is(check.stderr, '');
    t.deepEqual(check.stdout.split('\n').slice(0, 3), [
      'VARIABLE     CREDENTIAL  VERSION              STATUS',
      'LATIN1       latin1      0000000000000000002  FAILED: credential "latin1" version 0000000000000000002 is not valid UTF-8, so it cannot be an environment variable; use "file": true',
      'NUL_VALUE    nul         0000000000000000001  FAILED: credential "nul" version 0000000000000000001 contains a NUL byte, so it cannot be an environment variable; use "file": true',
    ]);
    t.regex(check.stdout, /^BINARY_FILE {2}binary {6}0000000000000000001 {2}ok \(file\)$/m);
    t.regex(check.stdout, /^TEXT {9}text {8}0000000000000000001 {2}ok$/m);

    world.manifest(
      'good.json',
      JSON.stringify({ BINARY_FILE: { name: 'binary', file: true }, TEXT: 'text' }),
    );
    const good = await runLauncherCli(world, [
      '-m',
      'good.json',
      '--',
      'node',
      '-e',
      "const fs = require('fs'); console.log(fs.readFileSync(process.env.BINARY_FILE).toString('hex'), process.env.TEXT)",
    ]);
    t.is(good.exitCode, 0, good.stderr);
    t.is(good.stdout, `${binary.toString('hex')} zürich ✓\n`);
  });
});

test('an environment too large for the kernel exits 125 naming the largest variables, never their values', async (t) => {
  await withWorld(async (world) => {
    await world.put('big-cert', 'c'.repeat(200 * 1024), '1');
    for (let i = 0; i < 3; i++) await world.put(`part-${i}`, `${i}`.repeat(110 * 1024), '1');
    world.manifest('one.env', 'BIG_CERT=big-cert\n');
    const marker = join(world.dir, 'ran');
    const touch = ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`];
    const one = await runLauncherCli(world, ['-m', 'one.env', '--', ...touch]);
    t.is(one.exitCode, 125);
    t.regex(
      one.stderr,
      /^credexec: node: cannot start: the environment is too large \(E2BIG\): BIG_CERT is 204809 bytes as NAME=value, over the 131072 one variable may take; largest variables: BIG_CERT 204809 bytes, \w+ \d+ bytes, \w+ \d+ bytes; use "file": true for large secrets\n$/,
    );
    // Each part fits on its own; with a big inherited variable the total does not.
    world.manifest('parts.env', 'PART_0=part-0\nPART_1=part-1\nPART_2=part-2\n');
    const inherited = Object.fromEntries(
      Array.from({ length: 15 }, (_, i) => [`INHERITED_${i}`, 'i'.repeat(120 * 1024)]),
    );
    const total = await runLauncherCli(world, ['-m', 'parts.env', '--', ...touch], inherited);
    t.is(total.exitCode, 125);
    t.regex(
      total.stderr,
      /^credexec: node: cannot start: the arguments and environment are too large together \(E2BIG\): \d+ bytes of environment and \d+ bytes of arguments, over the system limit \(usually 2 MiB in all\); largest variables: INHERITED_\d+ 12289\d bytes, .*; use "file": true for large secrets\n$/,
    );
    t.false(existsSync(marker));
    t.false(/cccc|0000000000|1111111111|2222222222/.test(one.stderr + total.stderr));
  });
});

test('with CREDEXEC_DEBUG the launcher adds stacks and causes to its one-line errors, never values', async (t) => {
  await withWorld(async (world) => {
    world.manifest('credexec.env', '');
    const plain = await runLauncherCli(world, ['--', 'credexec-no-such-command']);
    t.is(plain.stderr, 'credexec: credexec-no-such-command: command not found (ENOENT)\n');
    const spawn = await runLauncherCli(world, ['--', 'credexec-no-such-command'], {
      CREDEXEC_DEBUG: '1',
    });
    t.is(spawn.exitCode, 127);
    const lines = spawn.stderr.split('\n');
    t.is(lines[0], 'credexec: credexec-no-such-command: command not found (ENOENT)');
    t.is(lines[1], 'SpawnError: credexec-no-such-command: command not found (ENOENT)');
    t.regex(lines[2] ?? '', /^ {4}at /);
    t.true(lines.includes('Error: spawn credexec-no-such-command ENOENT'), spawn.stderr);

    await world.put('scoped', CANARY, '1', { env: 'prod' });
    world.manifest('failing.env', 'SCOPED=scoped\nGONE=gone\n');
    const resolve = await runLauncherCli(world, ['-m', 'failing.env', '--', 'true'], {
      CREDEXEC_DEBUG: '1',
    });
    t.is(resolve.exitCode, 125);
    const store = join(world.dir, 'store', 'credential-store.json');
    const head = [
      'credexec: 2 secret(s) could not be resolved; nothing was started:',
      '  SCOPED: scoped — cannot decrypt credential "scoped" version 0000000000000000001: the data key cannot be unwrapped with this encryption context (wrong or missing context?)',
      `  GONE: gone — credential "gone" not found in store file ${store}`,
    ].join('\n');
    t.true(resolve.stderr.startsWith(`${head}\nLaunchResolveError: `), resolve.stderr);
    t.regex(resolve.stderr, /^CredentialKeyError: cannot decrypt credential "scoped" /m);
    t.regex(resolve.stderr, /^KeyServiceError: the data key cannot be unwrapped /m);
    t.regex(resolve.stderr, /^NotFoundError: credential "gone" not found /m);
    t.false(resolve.stderr.includes(CANARY));
  });
});
