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
