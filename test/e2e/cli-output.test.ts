import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { parse as parseCsv } from 'csv-parse/sync';
import dotenv from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { BIN, runCli, tempLocalDir } from '../support/cli.js';

// Output reaches pipes, files and slow readers byte for byte, and write errors end the command
// the way SPEC §6 says: EPIPE as `cat` does (death by SIGPIPE), anything else one line and exit 1.

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

interface Store {
  readonly dir: string;
  readonly env: Record<string, string | undefined>;
  /** Store `value` under `name` through a file, so any bytes go in unchanged. */
  put(name: string, value: Buffer | string, ...extra: string[]): Promise<void>;
}

async function withStore(t: { teardown(fn: () => void): void }): Promise<Store> {
  const local = tempLocalDir();
  t.teardown(local.cleanup);
  const setup = await runCli(['setup'], { env: local.env });
  if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  let count = 0;
  return {
    dir: local.dir,
    env: local.env,
    async put(name, value, ...extra) {
      const file = join(local.dir, `value-${count++}`);
      writeFileSync(file, value);
      const put = await runCli(['put', name, `@${file}`, ...extra], { env: local.env });
      if (put.exitCode !== 0) throw new Error(`put failed: ${put.stderr}`);
    },
  };
}

function collect(stream: NodeJS.ReadableStream | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream?.on('data', (chunk: Buffer) => chunks.push(chunk));
  // 'close', not 'end': a stream the test destroyed on purpose never ends.
  return new Promise((resolve) => stream?.on('close', () => resolve(Buffer.concat(chunks))));
}

function exited(child: ReturnType<typeof spawn>) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
}

/** Run the bin with stdout read slowly: a few milliseconds' pause after every chunk. */
async function runToSlowReader(args: readonly string[], store: Store): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: store.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = collect(child.stderr);
  const done = exited(child);
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) {
    chunks.push(chunk as Buffer);
    await sleep(5);
  }
  return { ...(await done), stdout: Buffer.concat(chunks), stderr: (await stderr).toString() };
}

/** Run the bin with stdout opened on `path` (a file, /dev/full, …). */
async function runToPath(args: readonly string[], store: Store, path: string): Promise<Run> {
  const fd = openSync(path, 'w');
  try {
    return await runWithStdio(args, store, ['ignore', fd, 'pipe']);
  } finally {
    closeSync(fd);
  }
}

async function runWithStdio(
  args: readonly string[],
  store: Store,
  stdio: StdioOptions,
  prepare: (child: ReturnType<typeof spawn>) => void = () => undefined,
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env: store.env, stdio });
  prepare(child);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const done = exited(child);
  return {
    ...(await done),
    stdout: child.stdout ? await stdout : Buffer.alloc(0),
    stderr: child.stderr ? (await stderr).toString() : '',
  };
}

const MIB = 1024 * 1024;

test('get -n and get write 1 MiB and 70 KiB binary values byte for byte to a slow pipe reader', async (t) => {
  const store = await withStore(t);
  const values = { big: randomBytes(MIB), odd: randomBytes(70 * 1024) };
  for (const [name, value] of Object.entries(values)) await store.put(name, value);
  for (const [name, value] of Object.entries(values)) {
    const raw = await runToSlowReader(['get', '-n', name], store);
    t.is(raw.stderr, '', name);
    t.is(raw.code, 0, name);
    t.true(raw.stdout.equals(value), `get -n ${name}: ${raw.stdout.length} bytes`);
    const line = await runToSlowReader(['get', name], store);
    t.is(line.code, 0, name);
    t.true(line.stdout.equals(Buffer.concat([value, Buffer.from('\n')])), `get ${name}`);
  }
});

test('get -n and get write 1 MiB and 70 KiB values byte for byte to a file', async (t) => {
  const store = await withStore(t);
  const values = { big: randomBytes(MIB), odd: randomBytes(70 * 1024) };
  for (const [name, value] of Object.entries(values)) await store.put(name, value);
  const out = join(store.dir, 'out');
  for (const [name, value] of Object.entries(values)) {
    const raw = await runToPath(['get', '-n', name], store, out);
    t.is(raw.code, 0, raw.stderr);
    t.true(readFileSync(out).equals(value), `get -n ${name}`);
    const line = await runToPath(['get', name], store, out);
    t.is(line.code, 0, line.stderr);
    t.true(readFileSync(out).equals(Buffer.concat([value, Buffer.from('\n')])), `get ${name}`);
  }
});

const readBack: Record<string, (text: string) => Record<string, string>> = {
  json: (text) => JSON.parse(text) as Record<string, string>,
  yaml: (text) => parseYaml(text) as Record<string, string>,
  csv: (text) => Object.fromEntries(parseCsv(text) as [string, string][]),
  dotenv: (text) => dotenv.parse(text),
};

test('getall and wildcard get write a 1 MiB value whole in every format to a slow reader and to a file', async (t) => {
  const store = await withStore(t);
  const big = randomBytes(MIB).toString('base64');
  await store.put('big', big);
  await store.put('small', 'x');
  const out = join(store.dir, 'out');
  for (const [format, parse] of Object.entries(readBack)) {
    const key = (name: string) => (format === 'dotenv' ? name.toUpperCase() : name);
    for (const args of [
      ['getall', '-f', format],
      ['get', '*', '-f', format],
    ]) {
      const piped = await runToSlowReader(args, store);
      t.is(piped.code, 0, `${args.join(' ')}: ${piped.stderr}`);
      t.deepEqual(parse(piped.stdout.toString()), { [key('big')]: big, [key('small')]: 'x' });
      const filed = await runToPath(args, store, out);
      t.is(filed.code, 0, `${args.join(' ')}: ${filed.stderr}`);
      t.deepEqual(parse(readFileSync(out, 'utf8')), { [key('big')]: big, [key('small')]: 'x' });
    }
  }
});

test('a reader that stops early makes credexec die of SIGPIPE in silence, as cat does', async (t) => {
  const store = await withStore(t);
  await store.put('big', randomBytes(MIB).toString('base64'));
  for (const args of [
    ['get', 'big'],
    ['get', '-n', 'big'],
    ['getall'],
    ['get', 'b*', '-f', 'yaml'],
  ]) {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: store.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = collect(child.stderr);
    const done = exited(child);
    // Read the first chunk, then close the pipe, as `head -c10` does.
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    t.deepEqual(await done, { code: null, signal: 'SIGPIPE' }, args.join(' '));
    t.is((await stderr).toString(), '', args.join(' '));
  }
});

test('a shell sees 141 from credexec in a pipeline whose reader stops early, exactly as from cat', (t) => {
  const local = tempLocalDir();
  t.teardown(local.cleanup);
  const file = join(local.dir, 'big');
  writeFileSync(file, randomBytes(MIB).toString('base64'));
  const script = [
    `"$NODE" "$BIN" setup >/dev/null`,
    `"$NODE" "$BIN" put big @"$FILE" >/dev/null`,
    `"$NODE" "$BIN" get big | head -c10 >/dev/null; echo "credexec get \${PIPESTATUS[0]}"`,
    `"$NODE" "$BIN" getall | head -c10 >/dev/null; echo "credexec getall \${PIPESTATUS[0]}"`,
    `cat "$FILE" | head -c10 >/dev/null; echo "cat \${PIPESTATUS[0]}"`,
  ].join('\n');
  const run = spawnSync('bash', ['-c', script], {
    env: { ...local.env, NODE: process.execPath, BIN, FILE: file },
    encoding: 'utf8',
  });
  t.is(run.stderr, '');
  t.is(run.stdout, 'credexec get 141\ncredexec getall 141\ncat 141\n');
});

test('output to a pipe already closed by its reader ends every printing command by SIGPIPE', async (t) => {
  const store = await withStore(t);
  await store.put('x', 'value');
  const manifest = join(store.dir, 'm.env');
  writeFileSync(manifest, 'X=x\n');
  for (const args of [
    ['get', 'x'],
    ['getall', '-f', 'csv'],
    ['list'],
    ['keys'],
    ['--version'],
    ['--help'],
    ['check', '-m', manifest],
  ]) {
    const run = await runWithStdio(args, store, ['ignore', 'pipe', 'pipe'], (child) =>
      child.stdout?.destroy(),
    );
    t.deepEqual([run.code, run.signal, run.stderr], [null, 'SIGPIPE', ''], args.join(' '));
  }
});

test('a full disk is one line naming ENOSPC and exit 1, for every command that prints', async (t) => {
  const store = await withStore(t);
  await store.put('x', randomBytes(MIB).toString('base64'));
  await store.put('y', 'text');
  const manifest = join(store.dir, 'm.env');
  writeFileSync(manifest, 'Y=y\n');
  for (const args of [
    ['get', 'x'],
    ['get', '-n', 'x'],
    ['get', 'y*', '-f', 'dotenv'],
    ['getall', '-f', 'yaml'],
    ['list'],
    ['keys'],
    ['put', 'z', 'zed'],
    ['putall', '{"w": "1"}'],
    ['delete', 'z'],
    ['setup'],
    ['check', '-m', manifest],
    ['--version'],
    ['--help'],
    ['get', '--help'],
    ['help', 'get'],
    ['completion'],
  ]) {
    const run = await runToPath(args, store, '/dev/full');
    t.deepEqual(
      [run.code, run.signal, run.stderr],
      [1, null, 'credexec: cannot write to standard output: ENOSPC\n'],
      args.join(' '),
    );
  }
});

function viaBash(command: string, store: Store) {
  return spawnSync('bash', ['-c', command], {
    env: { ...store.env, NODE: process.execPath, BIN },
    encoding: 'utf8',
  });
}

test('a closed stdout fails get, getall, list and keys with one line; > /dev/null succeeds', async (t) => {
  const store = await withStore(t);
  await store.put('x', 'value');
  for (const args of [
    ...['get x', 'get -n x', 'getall', 'get "*" -f csv', 'list', 'keys'],
    ...['completion', 'help get', '-V'],
  ]) {
    const closed = viaBash(`"$NODE" "$BIN" ${args} >&-`, store);
    t.deepEqual([closed.status, closed.stderr], [1, 'credexec: standard output is closed\n'], args);
    const devNull = viaBash(`"$NODE" "$BIN" ${args} >/dev/null`, store);
    t.deepEqual([devNull.status, devNull.stderr], [0, ''], args);
  }
});

test('a command whose output only reports what it did still does it with stdout closed', async (t) => {
  const store = await withStore(t);
  const put = viaBash(`"$NODE" "$BIN" put x value >&-`, store);
  t.deepEqual([put.status, put.stderr], [0, '']);
  t.is((await runCli(['get', 'x'], { env: store.env })).stdout, 'value\n');
});

test('an error message to a stderr whose reader has gone never becomes a crash', async (t) => {
  const store = await withStore(t);
  for (const [args, code] of [
    [['get'], 2],
    [['get', 'missing'], 1],
    [['getall', '-f', 'xml'], 2],
  ] as const) {
    const run = await runWithStdio(args, store, ['ignore', 'pipe', 'pipe'], (child) =>
      child.stderr?.destroy(),
    );
    t.deepEqual([run.code, run.signal, run.stdout.toString()], [code, null, ''], args.join(' '));
  }
});

const V1 = '0000000000000000001';

test('get -n and get print any bytes exactly, while every text format refuses a value that is not text', async (t) => {
  const store = await withStore(t);
  const binary = Buffer.from([0xff, 0xfe, 0x41, 0x80]);
  await store.put('bin', binary);
  await store.put('nul', Buffer.from('a\0b'));
  await store.put('ok', 'fine');
  t.true((await runToSlowReader(['get', '-n', 'bin'], store)).stdout.equals(binary));
  t.true((await runToSlowReader(['get', 'nul'], store)).stdout.equals(Buffer.from('a\0b\n')));
  for (const format of ['json', 'yaml', 'csv', 'dotenv']) {
    const one = await runToSlowReader(['get', 'bi*', '-f', format], store);
    t.deepEqual(
      [one.code, one.stdout.toString(), one.stderr],
      [
        1,
        '',
        `credexec: credential "bin" version ${V1} is not valid UTF-8, so it cannot be printed as ${format}; use get -n, which prints its exact bytes\n`,
      ],
    );
    const all = await runToSlowReader(['getall', '-f', format], store);
    t.deepEqual(
      [all.code, all.stdout.toString(), all.stderr],
      [
        1,
        '',
        `credexec: getall failed for 2 credential(s):\n` +
          `  bin: credential "bin" version ${V1} is not valid UTF-8, so it cannot be printed as ${format}; use get -n, which prints its exact bytes\n` +
          `  nul: credential "nul" version ${V1} contains a NUL byte, so it cannot be printed as ${format}; use get -n, which prints its exact bytes\n`,
      ],
    );
  }
});
