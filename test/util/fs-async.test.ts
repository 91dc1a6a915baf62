import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  closeAsync,
  fstatAsync,
  lstatAsync,
  openAsync,
  readFileAsync,
  readdirAsync,
} from '../../src/util/fs-async.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code;
  }
}

test('the callback-based reads give what node:fs/promises gives, errors and codes included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'credexec-fs-async-'));
  try {
    const file = join(dir, 'file.txt');
    writeFileSync(file, 'text\n', { mode: 0o600 });
    mkdirSync(join(dir, 'sub'));
    t.is(await readFileAsync(file, 'utf8'), await fs.readFile(file, 'utf8'));
    t.deepEqual(await readdirAsync(dir), await fs.readdir(dir));
    t.is((await lstatAsync(file)).mode, (await fs.lstat(file)).mode);
    const fd = await openAsync(file, 'r');
    try {
      t.is((await fstatAsync(fd)).size, 5);
      t.deepEqual(await readFileAsync(fd), Buffer.from('text\n'));
    } finally {
      await closeAsync(fd);
    }
    for (const path of [join(dir, 'missing'), join(dir, 'sub'), join(file, 'below')]) {
      t.is(await codeOf(readFileAsync(path, 'utf8')), await codeOf(fs.readFile(path, 'utf8')));
      t.is(await codeOf(readdirAsync(path)), await codeOf(fs.readdir(path)));
    }
    t.is(await codeOf(openAsync(join(dir, 'missing'), 'r')), 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
