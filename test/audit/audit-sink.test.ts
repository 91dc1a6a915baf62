import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { openAuditSink, writeFully } from '../../src/audit/audit-sink.js';
import { AuditLogError } from '../../src/errors.js';

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-audit-sink-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a missing log is created with mode 0600 whatever the umask, and lines are appended', (t) => {
  const { dir, cleanup } = scratch();
  t.teardown(cleanup);
  const path = join(dir, 'audit.log');
  const umask = process.umask(0);
  try {
    const sink = openAuditSink(path);
    sink.append('{"a":1}\n');
    sink.append('{"b":2}\n');
    sink.close();
  } finally {
    process.umask(umask);
  }
  t.is(statSync(path).mode & 0o777, 0o600);
  t.is(readFileSync(path, 'utf8'), '{"a":1}\n{"b":2}\n');
});

test('an existing log of yours is appended to, never truncated, and keeps its mode', (t) => {
  const { dir, cleanup } = scratch();
  t.teardown(cleanup);
  const path = join(dir, 'audit.log');
  writeFileSync(path, 'earlier\n', { mode: 0o640 });
  const sink = openAuditSink(path);
  sink.append('later\n');
  sink.close();
  t.is(readFileSync(path, 'utf8'), 'earlier\nlater\n');
  t.is(statSync(path).mode & 0o777, 0o640);
});

function refusal(t: import('ava').ExecutionContext, path: string): string {
  const error = t.throws(() => openAuditSink(path), { instanceOf: AuditLogError });
  return error!.message;
}

test('a log that group or others can write to is refused, naming the fix', (t) => {
  const { dir, cleanup } = scratch();
  t.teardown(cleanup);
  const path = join(dir, 'audit.log');
  writeFileSync(path, '');
  chmodSync(path, 0o664);
  t.is(
    refusal(t, path),
    `audit log ${path} is writable by group or others (mode 0664); refusing to use it — run \`chmod go-w ${path}\``,
  );
});

test('a log owned by another user is refused, naming the fix', (t) => {
  if (process.getuid?.() !== 0) return t.pass('needs root to chown');
  const { dir, cleanup } = scratch();
  t.teardown(cleanup);
  const path = join(dir, 'audit.log');
  writeFileSync(path, '', { mode: 0o600 });
  chownSync(path, 65534, 65534);
  t.is(
    refusal(t, path),
    `audit log ${path} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${path}\` if you trust it`,
  );
});

test('a symbolic link, a directory, a FIFO and a missing directory are refused without blocking', (t) => {
  const { dir, cleanup } = scratch();
  t.teardown(cleanup);
  const target = join(dir, 'real.log');
  writeFileSync(target, '', { mode: 0o600 });
  const link = join(dir, 'link.log');
  symlinkSync(target, link);
  t.is(
    refusal(t, link),
    `cannot open audit log ${link}: it is a symbolic link; name the file itself`,
  );
  const dangling = join(dir, 'dangling.log');
  symlinkSync(join(dir, 'nowhere'), dangling);
  t.is(
    refusal(t, dangling),
    `cannot open audit log ${dangling}: it is a symbolic link; name the file itself`,
  );
  const directory = join(dir, 'logs');
  mkdirSync(directory);
  t.is(refusal(t, directory), `cannot open audit log ${directory}: EISDIR`);
  const fifo = join(dir, 'audit.fifo');
  execFileSync('mkfifo', [fifo]);
  t.is(
    refusal(t, fifo),
    `cannot open audit log ${fifo}: it is a FIFO with no reader; use a regular file`,
  );
  const missing = join(dir, 'missing', 'audit.log');
  t.is(refusal(t, missing), `cannot open audit log ${missing}: ENOENT`);
  t.is(readFileSync(target, 'utf8'), '', 'nothing was written through the link');
});

test('a device is refused as not a regular file', (t) => {
  t.is(
    refusal(t, '/dev/null'),
    'audit log /dev/null is not a regular file; refusing to append to it',
  );
});

test('- writes to the standard error stream given, one write per line', (t) => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const sink = openAuditSink('-', stream);
  t.is(sink.name, '-');
  sink.append('{"a":1}\n');
  sink.append('{"b":2}\n');
  t.deepEqual(chunks, ['{"a":1}\n', '{"b":2}\n']);
});

test('writing to standard error goes on after partial writes and a full non-blocking pipe', (t) => {
  const bytes = Buffer.from('0123456789abcdef');
  const received: string[] = [];
  let calls = 0;
  writeFully(2, bytes, (_fd, buffer, offset, length) => {
    calls++;
    if (calls === 2 || calls === 3) throw Object.assign(new Error('busy'), { code: 'EAGAIN' });
    const size = Math.min(5, length);
    received.push(
      Buffer.from(buffer)
        .subarray(offset!, offset! + size)
        .toString(),
    );
    return size;
  });
  t.is(received.join(''), '0123456789abcdef');
  t.is(calls, 6);
});

test('writing to standard error gives up on other errors at once, and on a pipe that stays full', (t) => {
  const broken = Object.assign(new Error('broken'), { code: 'EPIPE' });
  t.is(
    t.throws(() =>
      writeFully(2, Buffer.from('x'), () => {
        throw broken;
      }),
    ),
    broken,
  );
  const started = Date.now();
  const error = t.throws(() =>
    writeFully(2, Buffer.from('x'), () => {
      throw Object.assign(new Error('busy'), { code: 'EAGAIN' });
    }),
  );
  t.is((error as NodeJS.ErrnoException).code, 'EAGAIN');
  t.true(Date.now() - started >= 1000, 'it waited about a second first');
});
