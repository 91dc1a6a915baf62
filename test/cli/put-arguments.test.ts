import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { main } from '../../src/cli/main.js';

/** Run the CLI in this process against a fresh local store; returns status and output. */
async function withCli(
  run: (
    cli: (args: string[], input?: string) => Promise<{ code: number; out: string; err: string }>,
  ) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-cli-test-'));
  const env = { CREDEXEC_BACKEND: 'local', CREDEXEC_LOCAL_DIR: join(dir, 'store') };
  const cli = async (args: string[], input = '') => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    stdin.end(input);
    const code = await main(args, { io: { stdin, stdout, stderr }, env });
    return {
      code,
      out: Buffer.concat(out).toString('utf8'),
      err: Buffer.concat(err).toString('utf8'),
    };
  };
  try {
    await cli(['setup']);
    await run(cli);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('put -a past the largest version credstash can store fails at run time (exit 1), not as a usage error', async (t) => {
  await withCli(async (cli) => {
    t.is((await cli(['put', 'full', 'v', '-v', '9999999999999999999'])).code, 0);
    const next = await cli(['put', 'full', 'w', '-a']);
    t.is(next.code, 1);
    t.is(
      next.err,
      'credexec: cannot add a version to credential "full": its latest version 9999999999999999999 is the largest credstash can store (19 digits)\n',
    );
    t.is(next.out, '');
  });
});

const BAD_NAMES = [
  ['a\nb', 'a\\u000ab', 'U+000A'],
  ['tab\there', 'tab\\u0009here', 'U+0009'],
  ['nul\0', 'nul\\u0000', 'U+0000'],
  ['del\u007f', 'del\\u007f', 'U+007F'],
  ['c1\u0085x', 'c1\\u0085x', 'U+0085'],
  ['c1\u009f', 'c1\\u009f', 'U+009F'],
] as const;

test('credential names with control characters are usage errors for put, get and delete', async (t) => {
  await withCli(async (cli) => {
    for (const [name, shown, code] of BAD_NAMES) {
      const message = `credexec: credential name "${shown}" contains a control character (${code})\n`;
      for (const args of [
        ['put', name, 'value'],
        ['put', name, '-'],
        ['put', '-a', name, 'value'],
        ['get', name],
        ['delete', name],
      ]) {
        const result = await cli(args, 'from stdin');
        t.is(result.code, 2, args.join(' '));
        t.is(result.err, message, args.join(' '));
      }
    }
    const list = await cli(['list']);
    t.is(list.out, '');
    t.is((await cli(['put', 'printable é ✓ name', 'v'])).code, 0);
  });
});

test('putall refuses a name with a control character before storing anything (exit 2)', async (t) => {
  await withCli(async (cli) => {
    const result = await cli(['putall', JSON.stringify({ good: 'v', 'bad\u0001': 'w' })]);
    t.is(result.code, 2);
    t.is(
      result.err,
      'credexec: putall: credential name "bad\\u0001" contains a control character (U+0001)\n',
    );
    t.is(result.out, '');
    t.is((await cli(['list'])).out, '');
  });
});
