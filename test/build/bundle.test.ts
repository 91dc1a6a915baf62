import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';
import test from 'ava';
import { packageVersion } from '../../src/cli/main.js';
import { BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/vectors.js';

// The built CLI (`npm test` builds first): CommonJS chunks. What `credexec -- CMD` loads is
// credexec.cjs, which carries the chunks it needs at load time; the AWS SDK and yargs must only be
// reachable through the lazy requires that dynamic imports became.
const BUNDLE = join(REPO_ROOT, 'dist', 'bundle');
const AWS_SDK_MARKERS = ['DynamoDB_20120810', 'TrentService'];
const YARGS_MARKER = 'Not enough non-option arguments';

function read(file: string): string {
  return readFileSync(join(BUNDLE, file), 'utf8');
}

/** A lazy require: `Promise.resolve().then(() => __toESM(require("./chunk.cjs")))`. */
const LAZY_REQUIRE = /Promise\.resolve\(\)\.then\(\(\)=>__toESM\(require\("\.\/([^"]+)"\)\)\)/g;

function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = read(file).replaceAll(LAZY_REQUIRE, '');
    // Leftover ESM syntax would be a conversion bug; count it as loaded all the same.
    for (const match of text.matchAll(/(?:require\(|from|import)\s*"\.\/([^"]+)"/g))
      pending.push(match[1]!);
  }
  return seen;
}

test('the bundle is CommonJS: no import/export statement, import.meta or import()', (t) => {
  const files = readdirSync(BUNDLE).filter((file) => /\.[cm]?js$/.test(file));
  t.true(files.includes('credexec.cjs'));
  for (const file of files) {
    t.true(file.endsWith('.cjs'), file);
    const text = read(file);
    // Module syntax (import/export statements, import.meta) does not compile as a CJS function.
    t.notThrows(() => compileFunction(text, ['exports', 'require', 'module']), file);
    t.false(/(?<![\w$.])import\(/.test(text), `${file}: a dynamic import() was left`);
  }
});

test('the launcher start-up path is one file, with neither the AWS SDK nor yargs in it', (t) => {
  const files = staticClosure('credexec.cjs');
  t.deepEqual([...files], ['credexec.cjs']);
  const text = read('credexec.cjs');
  t.true(text.includes('__credexecChunks={"chunk-'), 'the entry carries the chunks it needs');
  for (const marker of [...AWS_SDK_MARKERS, YARGS_MARKER]) t.false(text.includes(marker), marker);
});

test('a chunk the entry carries exists once: the lazy chunks take it from the entry', (t) => {
  const carried = [...read('credexec.cjs').matchAll(/"(chunk-[A-Z0-9]+\.cjs)":function\(/g)].map(
    (match) => match[1]!,
  );
  t.true(carried.length > 1, carried.join(' '));
  const files = readdirSync(BUNDLE);
  for (const name of carried) t.false(files.includes(name), name);
  const yargs = files.find((file) => file.startsWith('yargs-cli-'))!;
  t.regex(read(yargs), /require\("\.\/credexec\.cjs"\)\.__credexecChunk\("chunk-[A-Z0-9]+\.cjs"\)/);
});

test('the AWS SDK and yargs are in the bundle, behind lazy requires', (t) => {
  const all = readdirSync(BUNDLE)
    .filter((file) => file.endsWith('.cjs'))
    .map(read)
    .join('\n');
  for (const marker of [...AWS_SDK_MARKERS, YARGS_MARKER]) t.true(all.includes(marker), marker);
  const lazy = [...read('credexec.cjs').matchAll(LAZY_REQUIRE)].map((match) => match[1]!);
  t.true(
    lazy.some((file) => /^aws-[A-Z0-9]+\.cjs$/.test(file)),
    lazy.join(' '),
  );
  t.true(
    lazy.some((file) => /^yargs-cli-[A-Z0-9]+\.cjs$/.test(file)),
    lazy.join(' '),
  );
});

test('the version is package.json’s, built into the bundle and read by the sources', (t) => {
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  t.true(read('credexec.cjs').includes(`return"${version}"`));
  t.is(execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' }), `${version}\n`);
  t.is(packageVersion(), version);
});

test('the fallback (--fallback) is a chunk of its own, loaded only when asked for', (t) => {
  const marker = 'credexec-fallback';
  t.false(read('credexec.cjs').includes(marker));
  const lazy = [...read('credexec.cjs').matchAll(LAZY_REQUIRE)].map((match) => match[1]!);
  const chunk = lazy.find((file) => /^fallback-source-[A-Z0-9]+\.cjs$/.test(file));
  t.truthy(chunk, lazy.join(' '));
  t.true(read(chunk!).includes(marker));
});
