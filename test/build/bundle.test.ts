import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { REPO_ROOT } from '../support/vectors.js';

// The built CLI (`npm test` builds first). What `credexec -- CMD` loads is credexec.js and the
// chunks it imports statically; the AWS SDK and yargs must only be reachable by dynamic import.
const BUNDLE = join(REPO_ROOT, 'dist', 'bundle');
const AWS_SDK_MARKERS = ['DynamoDB_20120810', 'TrentService'];
const YARGS_MARKER = 'Not enough non-option arguments';

function read(file: string): string {
  return readFileSync(join(BUNDLE, file), 'utf8');
}

function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of read(file).matchAll(/(?:from|import)\s*"\.\/([^"]+)"/g))
      pending.push(match[1]!);
  }
  return seen;
}

test('the launcher start-up path loads neither the AWS SDK nor yargs', (t) => {
  const files = staticClosure('credexec.js');
  const text = [...files].map(read).join('\n');
  for (const marker of [...AWS_SDK_MARKERS, YARGS_MARKER]) t.false(text.includes(marker), marker);
});

test('the AWS SDK and yargs are in the bundle, behind dynamic imports', (t) => {
  const all = readdirSync(BUNDLE)
    .filter((file) => file.endsWith('.js'))
    .map(read)
    .join('\n');
  for (const marker of [...AWS_SDK_MARKERS, YARGS_MARKER]) t.true(all.includes(marker), marker);
  t.regex(read('credexec.js'), /import\("\.\/aws-[A-Z0-9]+\.js"\)/);
  t.regex(read('credexec.js'), /import\("\.\/yargs-cli-[A-Z0-9]+\.js"\)/);
});
