import { PassThrough, Writable } from 'node:stream';
import test from 'ava';
import { OutputError } from '../../src/errors.js';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { looksReopenedByNode, writeOutput } from '../../src/cli/output.js';

/** A stream that reads each chunk only some time after it was written, as a full pipe does. */
function slowSink(): { stream: Writable; received: Buffer[] } {
  const received: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        received.push(Buffer.from(chunk));
        callback();
      }, 20);
    },
  });
  return { stream, received };
}

/** A stream whose every write fails with `code`, as stdout on a full disk or a closed pipe. */
function failingSink(code: string): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error(`write ${code}`), { code }));
    },
  });
}

test('writeOutput resolves only once the stream has taken the bytes, so wiping afterwards is safe', async (t) => {
  const { stream, received } = slowSink();
  const value = Buffer.from('secret bytes');
  await writeOutput(stream, value, '\n');
  value.fill(0);
  t.is(Buffer.concat(received).toString(), 'secret bytes\n');
});

test('wiping before the stream has taken the bytes would lose them (the hazard writeOutput avoids)', async (t) => {
  const { stream, received } = slowSink();
  const value = Buffer.from('secret bytes');
  const written = writeOutput(stream, value);
  value.fill(0);
  await written;
  t.deepEqual(Buffer.concat(received), Buffer.alloc(value.length));
});

test('a failed write rejects with an OutputError naming the errno, and no error event escapes', async (t) => {
  const stream = failingSink('ENOSPC');
  const error = await t.throwsAsync(writeOutput(stream, 'x'), { instanceOf: OutputError });
  t.is(error.errno, 'ENOSPC');
  t.is(error.message, 'cannot write to standard output: ENOSPC');
  // A second write to the failed stream reports the same, still without an uncaught event.
  await t.throwsAsync(writeOutput(stream, 'y'), { instanceOf: OutputError });
});

test('a closed stdout is told apart from > /dev/null by its read-write flags', (t) => {
  t.true(looksReopenedByNode('/dev/null', 'pos:\t0\nflags:\t02100002\nmnt_id:\t24\n'));
  t.false(looksReopenedByNode('/dev/null', 'pos:\t0\nflags:\t02100001\nmnt_id:\t24\n'));
  t.false(looksReopenedByNode('pipe:[45280]', 'pos:\t0\nflags:\t02000002\n'));
  t.false(looksReopenedByNode('/dev/null', ''));
});

function io(stdout: Writable, closed = false): { io: CliIo; stderr: () => string } {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    io: { stdin: new PassThrough(), stdout, stderr, stdoutIsClosed: () => closed },
    stderr: () => Buffer.concat(chunks).toString(),
  };
}

test('main turns EPIPE into the SIGPIPE status in silence, and other write errors into one line and 1', async (t) => {
  const broken = io(failingSink('EPIPE'));
  t.is(await main(['--version'], { io: broken.io, env: {} }), 141);
  t.is(broken.stderr(), '');
  const full = io(failingSink('ENOSPC'));
  t.is(await main(['--version'], { io: full.io, env: {} }), 1);
  t.is(full.stderr(), 'credexec: cannot write to standard output: ENOSPC\n');
  const closed = io(slowSink().stream, true);
  t.is(await main(['--version'], { io: closed.io, env: {} }), 1);
  t.is(closed.stderr(), 'credexec: standard output is closed\n');
});
