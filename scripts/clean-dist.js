// `npm run build` starts from an empty dist/ (stale chunks and declarations must not ship), but
// keeps dist/sea: the single binary (npm run build:sea) takes a while to make and is rebuilt by
// build:sea and npm test whenever the sources change.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

let entries = [];
try {
  entries = readdirSync('dist');
} catch {
  // No dist/ yet.
}
for (const entry of entries) {
  if (entry !== 'sea') rmSync(join('dist', entry), { recursive: true, force: true });
}
