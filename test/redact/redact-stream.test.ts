import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { compileRedaction } from '../../src/redact/redaction.js';
import { RedactStream, pipeRedacted, redactChildOutput } from '../../src/redact/redact-stream.js';
import { leakedForms } from '../support/redaction.js';

const TOKEN = 'tok_8f3a9c2e71b44d0e';
const REDACTION = compileRedaction([{ variable: 'TOKEN', value: Buffer.from(TOKEN) }]);
const MARKER = '<redacted:TOKEN>';

/** Everything the stream has emitted so far, as text. */
function collect(stream: Readable): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString();
}

/** A Writable that keeps what it is given. */
function sink(delayMs = 0): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (delayMs === 0) callback();
      else setTimeout(callback, delayMs);
    },
  });
  return Object.assign(writable, { text: () => Buffer.concat(chunks).toString() });
}

test('a held-back prefix is written out once the stream has been idle', async (t) => {
  // Long enough that a loaded machine still looks before the idle time is over.
  const stream = new RedactStream(REDACTION, { idleMs: 400 });
  const output = collect(stream);
  stream.write('Continue? [y/n] t');
  await sleep(0);
  // "t" may start the token: everything before it is out at once, "t" waits.
  t.is(output(), 'Continue? [y/n] ');
  t.is(stream.heldBack, 1);
  // The idle timer does not keep a process alive (the child does, in the launcher): this does.
  const alive = setTimeout(() => {}, 10_000);
  await once(stream, 'data');
  clearTimeout(alive);
  t.is(output(), 'Continue? [y/n] t');
  t.is(stream.heldBack, 0);
});

test('a prompt that cannot start a value is written out at once', async (t) => {
  const stream = new RedactStream(REDACTION, { idleMs: 60_000 });
  const output = collect(stream);
  stream.write('Password: ');
  await sleep(0);
  t.is(output(), 'Password: ');
});

test('a value written in two parts within the idle time is caught', async (t) => {
  const stream = new RedactStream(REDACTION, { idleMs: 60_000 });
  const output = collect(stream);
  stream.write(`token=${TOKEN.slice(0, 9)}`);
  await sleep(20);
  stream.end(`${TOKEN.slice(9)}\n`);
  await once(stream, 'end');
  t.is(output(), `token=${MARKER}\n`);
});

test('a value written in two parts further apart than the idle time is not caught (the trade-off)', async (t) => {
  const stream = new RedactStream(REDACTION, { idleMs: 1 });
  const output = collect(stream);
  stream.write(`token=${TOKEN.slice(0, 9)}`);
  // The idle timer (1 ms) fires before this one (30 ms) does.
  await sleep(30);
  stream.end(`${TOKEN.slice(9)}\n`);
  await once(stream, 'end');
  t.is(output(), `token=${TOKEN}\n`);
});

test('with an infinite idle time, held-back bytes wait for the end of the stream', async (t) => {
  const stream = new RedactStream(REDACTION, { idleMs: Infinity });
  const output = collect(stream);
  stream.write('t');
  await sleep(30);
  t.is(output(), '');
  stream.end();
  await once(stream, 'end');
  t.is(output(), 't');
});

test('the end of the stream flushes the held-back bytes and replaces a value at the very end', async (t) => {
  const stream = new RedactStream(REDACTION, { idleMs: 60_000 });
  const output = collect(stream);
  stream.write(`a ${TOKEN} b ${TOKEN.slice(0, 5)}`);
  stream.end();
  await once(stream, 'end');
  t.is(output(), `a ${MARKER} b ${TOKEN.slice(0, 5)}`);
  const other = new RedactStream(REDACTION);
  const otherOutput = collect(other);
  other.end(`x ${TOKEN}`);
  await once(other, 'end');
  t.is(otherOutput(), `x ${MARKER}`);
});

test('a slow reader holds the source back instead of letting output pile up', async (t) => {
  const chunk = Buffer.from(`${'log line without secrets '.repeat(40)}${TOKEN}\n`);
  const total = 4000;
  let produced = 0;
  const source = new Readable({
    highWaterMark: 4096,
    read() {
      if (produced === total) this.push(null);
      else {
        produced += 1;
        this.push(chunk);
      }
    },
  });
  const stream = new RedactStream(REDACTION, { highWaterMark: 4096 });
  source.pipe(stream);
  // Nobody reads: the pipe must stop after a few chunks.
  await sleep(50);
  const buffered = produced * chunk.length;
  t.true(buffered < 16 * 4096, `${produced} chunks produced with nobody reading`);
  t.true(stream.readableLength <= 4096 + chunk.length + 2 * MARKER.length);
  const output = collect(stream);
  await once(stream, 'end');
  t.is(produced, total);
  const text = output();
  t.is(text, `${'log line without secrets '.repeat(40)}${MARKER}\n`.repeat(total));
  t.deepEqual(leakedForms(Buffer.from(text), Buffer.from(TOKEN)), []);
});

test('stdout and stderr are redacted apart: a value split between them is two harmless halves', async (t) => {
  const child = redactChildOutput(REDACTION, { idleMs: 60_000 });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  child.stdout.write(`out ${TOKEN} ${TOKEN.slice(0, 8)}`);
  child.stderr.write(`${TOKEN.slice(8)} err ${TOKEN.slice(0, 3)}`);
  child.stderr.write(`${TOKEN.slice(3)}\n`);
  child.stdout.end('\n');
  child.stderr.end();
  await Promise.all([once(child.stdout, 'end'), once(child.stderr, 'end')]);
  t.is(stdout(), `out ${MARKER} ${TOKEN.slice(0, 8)}\n`);
  t.is(stderr(), `${TOKEN.slice(8)} err ${MARKER}\n`);
});

test('replace() switches both streams of a child, keeping what each held back', async (t) => {
  const old = [{ variable: 'API_KEY', value: Buffer.from('alpha-secret-1') }];
  const rotated = [...old, { variable: 'API_KEY', value: Buffer.from('bravo-secret-2') }];
  const child = redactChildOutput(compileRedaction(old), { idleMs: 60_000 });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  child.stdout.write('alpha-se');
  child.stderr.write('alp');
  child.replace(compileRedaction(rotated));
  child.stdout.end('cret-1 bravo-secret-2');
  child.stderr.end('ha-secret-1 bravo-secret-2');
  await Promise.all([once(child.stdout, 'end'), once(child.stderr, 'end')]);
  t.is(stdout(), '<redacted:API_KEY> <redacted:API_KEY>');
  t.is(stderr(), '<redacted:API_KEY> <redacted:API_KEY>');
});

test('a new value whose start was written before replace() is not caught (it was not held back)', async (t) => {
  const old = compileRedaction([{ variable: 'API_KEY', value: Buffer.from('alpha-secret-1') }]);
  const stream = new RedactStream(old, { idleMs: 60_000 });
  const output = collect(stream);
  stream.write('bravo-se');
  await sleep(0);
  t.is(output(), 'bravo-se');
  stream.replace(
    compileRedaction([
      { variable: 'API_KEY', value: Buffer.from('alpha-secret-1') },
      { variable: 'API_KEY', value: Buffer.from('bravo-secret-2') },
    ]),
  );
  stream.end('cret-2 bravo-secret-2');
  await once(stream, 'end');
  t.is(output(), 'bravo-secret-2 <redacted:API_KEY>');
});

test('a child writing a value in pieces to stdout and stderr has it replaced in both, in order', async (t) => {
  const script = `
    const pieces = ${JSON.stringify([TOKEN.slice(0, 4), TOKEN.slice(4, 13), `${TOKEN.slice(13)}\n`])};
    const write = (stream, text) => new Promise((resolve) => stream.write(text, resolve));
    (async () => {
      for (const [index, piece] of pieces.entries()) {
        await write(process.stdout, (index === 0 ? 'out: ' : '') + piece);
        await write(process.stderr, (index === 0 ? 'err: ' : '') + piece);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await write(process.stdout, '\\u001b[32mdone\\u001b[0m\\n');
    })();
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const redact = redactChildOutput(REDACTION, { idleMs: 60_000 });
  const out = sink();
  const err = sink();
  await Promise.all([
    pipeRedacted(child.stdout, redact.stdout, out),
    pipeRedacted(child.stderr, redact.stderr, err),
    once(child, 'exit'),
  ]);
  t.is(out.text(), `out: ${MARKER}\n\u001b[32mdone\u001b[0m\n`);
  t.is(err.text(), `err: ${MARKER}\n`);
  t.false(out.writableEnded, 'the destination is not ended: it is credexec’s own stdout');
});

test('pipeRedacted resolves once the destination has completed every write', async (t) => {
  const out = sink(5);
  const pending: number[] = [];
  const original = out.write.bind(out);
  let completed = 0;
  out.write = ((chunk: Buffer, ...rest: unknown[]) => {
    pending.push(chunk.length);
    const callback = rest.find((value) => typeof value === 'function') as
      ((error?: Error | null) => void) | undefined;
    return original(chunk, (error?: Error | null) => {
      completed += 1;
      callback?.(error);
    });
  }) as typeof out.write;
  await pipeRedacted(
    Readable.from([Buffer.from('one '), Buffer.from(TOKEN), Buffer.from(' two\n')]),
    new RedactStream(REDACTION),
    out,
  );
  t.is(completed, pending.length);
  t.is(out.text(), `one ${MARKER} two\n`);
});

test('when the destination fails, pipeRedacted rejects and the source is destroyed', async (t) => {
  const source = new Readable({ read() {} });
  source.push(Buffer.from('data\n'));
  const broken = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  await t.throwsAsync(pipeRedacted(source, new RedactStream(REDACTION), broken), {
    message: 'write EPIPE',
  });
  t.true(source.destroyed);
});
