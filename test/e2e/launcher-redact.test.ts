import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { runLauncherCli, startCli, waitForFile, withWorld } from '../support/launcher.js';

/** `credexec --redact` through the real bin: the child's output comes through credexec, redacted. */
const CANARY = 'canary-Redact-9xQ-value';
const CANARY_B64 = Buffer.from(CANARY).toString('base64');

/** A child script: prints the secret in several forms to stdout and stderr, then exits 3. */
const LEAKY = [
  'const v = process.env.TOKEN;',
  'process.stdout.write(`plain ${v}\\n`);',
  'process.stdout.write(`b64 ${Buffer.from(v).toString("base64")}\\n`);',
  'process.stdout.write(`url ${encodeURIComponent(v + " /")}\\n`);',
  'process.stdout.write(`json ${JSON.stringify({ token: v })}\\n`);',
  'process.stderr.write(`err ${v}\\n`);',
  // A value split across two writes, a few milliseconds apart.
  'process.stdout.write(`split ${v.slice(0, 7)}`);',
  'setTimeout(() => { process.stdout.write(`${v.slice(7)} end\\n`); process.exit(3); }, 5);',
].join('\n');

test('every form of a secret is replaced in stdout and stderr, which stay apart; the exit status passes through', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const result = await runLauncherCli(world, ['--redact', '--', 'node', '-e', LEAKY]);
    t.is(result.exitCode, 3, result.stderr);
    t.is(
      result.stdout,
      [
        'plain <redacted:TOKEN>',
        'b64 <redacted:TOKEN>',
        'url <redacted:TOKEN>%20%2F',
        'json {"token":"<redacted:TOKEN>"}',
        'split <redacted:TOKEN> end',
        '',
      ].join('\n'),
    );
    t.is(result.stderr, 'err <redacted:TOKEN>\n');
    for (const output of [result.stdout, result.stderr]) {
      t.false(output.includes(CANARY));
      t.false(output.includes(CANARY_B64));
    }
  });
});

test('CREDEXEC_REDACT=1 turns redaction on; without it the output is the child’s own', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const args = ['--', 'sh', '-c', 'printf "%s\\n" "$TOKEN"'];
    t.is(
      (await runLauncherCli(world, args, { CREDEXEC_REDACT: '1' })).stdout,
      '<redacted:TOKEN>\n',
    );
    t.is((await runLauncherCli(world, args)).stdout, `${CANARY}\n`);
    const bad = await runLauncherCli(world, args, { CREDEXEC_REDACT: 'yes please' });
    t.is(bad.exitCode, 2);
    t.is(bad.stderr, 'credexec: CREDEXEC_REDACT must be 1 (redact the output) or 0\n');
  });
});

test('a value shorter than the minimum is left alone, and check --redact says so', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    await world.put('app.pin', '123');
    world.manifest('credexec.env', 'TOKEN=app.token\nPIN=app.pin\n');
    const run = await runLauncherCli(world, [
      '--redact',
      '--',
      'sh',
      '-c',
      'printf "%s %s 1234\\n" "$PIN" "$TOKEN"',
    ]);
    t.is(run.stdout, '123 <redacted:TOKEN> 1234\n');
    const check = await runLauncherCli(world, ['check', '--redact']);
    t.is(check.exitCode, 0);
    t.regex(check.stdout, /\nPIN: not redacted: shorter than 4 bytes \(--redact-min-length\)\n$/);
    t.false(check.stdout.includes(CANARY));
    const longer = await runLauncherCli(world, ['check', '--redact', '--redact-min-length', '64']);
    t.regex(longer.stdout, /TOKEN: not redacted: shorter than 64 bytes/);
  });
});

test('binary output passes through byte for byte, apart from the replaced value', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const script = [
      'const bytes = Buffer.alloc(256 * 1024);',
      'for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;',
      'process.stdout.write(bytes);',
      'process.stdout.write(process.env.TOKEN);',
      'process.stdout.write(bytes);',
    ].join('\n');
    const started = startCli(['--redact', '--', 'node', '-e', script], {
      env: world.env,
      cwd: world.cwd,
    });
    const chunks: Buffer[] = [];
    started.process.stdout.removeAllListeners('data');
    started.process.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    await started.result;
    const out = Buffer.concat(chunks);
    const bytes = Buffer.alloc(256 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    t.true(out.equals(Buffer.concat([bytes, Buffer.from('<redacted:TOKEN>'), bytes])));
  });
});

test('a prompt without a newline appears while the child waits for input', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const child = spawn(
      process.execPath,
      [
        join(process.cwd(), 'bin', 'credexec.cjs'),
        '--redact',
        '--',
        'sh',
        '-c',
        'printf "Password: "; read answer; echo "got $answer"',
      ],
      { cwd: world.cwd, env: world.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const deadline = Date.now() + 10_000;
    while (!out.includes('Password: ') && Date.now() < deadline) await sleep(10);
    t.is(out, 'Password: ');
    child.stdin.end('yes\n');
    await once(child, 'close');
    t.is(out, 'Password: got yes\n');
  });
});

test('a child killed by a signal makes credexec die of it, after its output was written', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const result = await runLauncherCli(world, [
      '--redact',
      '--',
      'sh',
      '-c',
      'printf "%s last words\\n" "$TOKEN"; kill -TERM $$',
    ]);
    t.is(result.signal, 'SIGTERM');
    t.is(result.stdout, '<redacted:TOKEN> last words\n');
  });
});

test('SIGTERM reaches the child once while its output is redacted', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const started = startCli(['--redact', '--', 'node', world.child, 'signals', world.dir], {
      env: world.env,
      cwd: world.cwd,
    });
    await waitForFile(join(world.dir, 'ready'));
    started.process.kill('SIGTERM');
    const result = await started.result;
    t.is(result.exitCode, 0, result.stderr);
    t.deepEqual(JSON.parse(readFileSync(join(world.dir, 'counts.json'), 'utf8')), { SIGTERM: 1 });
  });
});

test('a process the child leaves behind holding its output open does not keep credexec waiting', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const began = Date.now();
    const result = await runLauncherCli(world, [
      '--redact',
      '--',
      'sh',
      '-c',
      '(sleep 30; echo late) & printf "%s\\n" "$TOKEN"; exit 5',
    ]);
    t.is(result.exitCode, 5);
    t.is(result.stdout, '<redacted:TOKEN>\n');
    t.true(Date.now() - began < 15_000, `took ${Date.now() - began} ms`);
  });
});

test('a large output (20 MiB) comes through whole and in order', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    world.manifest('credexec.env', 'TOKEN=app.token\n');
    const script = [
      'const line = "x".repeat(1023) + "\\n";',
      'let n = 0;',
      'function more() {',
      '  while (n < 20480) { n++; if (!process.stdout.write(n === 10000 ? process.env.TOKEN + "\\n" : line)) return process.stdout.once("drain", more); }',
      '}',
      'more();',
    ].join('\n');
    const result = await runLauncherCli(world, ['--redact', '--', 'node', '-e', script]);
    t.is(result.exitCode, 0);
    const lines = result.stdout.split('\n');
    t.is(lines.length, 20481);
    t.is(lines[9999], '<redacted:TOKEN>');
    t.is(lines.filter((line) => line === 'x'.repeat(1023)).length, 20479);
  });
});

test('a JSON manifest turns redaction on with "$credexec": {"redact": true}, and an entry opts out with "redact": false', async (t) => {
  await withWorld(async (world) => {
    await world.put('app.token', CANARY);
    await world.put('app.public', 'public-key-material');
    world.manifest(
      'app.json',
      JSON.stringify({
        $credexec: { redact: true },
        TOKEN: 'app.token',
        PUBLIC: { name: 'app.public', redact: false },
      }),
    );
    const result = await runLauncherCli(world, [
      '-m',
      'app.json',
      '--',
      'sh',
      '-c',
      'printf "%s %s\\n" "$TOKEN" "$PUBLIC"',
    ]);
    t.is(result.exitCode, 0, result.stderr);
    t.is(result.stdout, '<redacted:TOKEN> public-key-material\n');
    const check = await runLauncherCli(world, ['check', '-m', 'app.json']);
    t.regex(check.stdout, /\nPUBLIC: not redacted: "redact": false\n$/);
    world.manifest(
      'bad.json',
      JSON.stringify({ $credexec: { redact: 'yes' }, TOKEN: 'app.token' }),
    );
    const refused = await runLauncherCli(world, ['-m', 'bad.json', '--', 'true']);
    t.is(refused.exitCode, 125);
    t.regex(refused.stderr, /bad\.json:1: \$credexec: "redact" must be true or false/);
  });
});
