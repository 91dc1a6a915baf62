import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { EMPTY_CONTEXT } from '../../src/envelope/context.js';
import { padVersion } from '../../src/envelope/version.js';
import {
  FallbackError,
  KeyServiceError,
  messageOf,
  SetupRequiredError,
  StoreError,
  type StoreFailure,
} from '../../src/errors.js';
import { parseFallback, serializeFallback } from '../../src/fallback/fallback-file.js';
import { withFallback, type FallbackOptions } from '../../src/fallback/fallback-source.js';
import type { ManifestEntry } from '../../src/manifest/manifest-entry.js';
import {
  resolveEntries,
  type Resolution,
  type ResolveSource,
} from '../../src/resolve/resolve-entries.js';
import type { CredentialItem } from '../../src/stores/item.js';
import { FakeBackend } from '../resolve/fake-backend.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-30T12:00:00.000Z');

function entry(
  variable: string,
  credential: string,
  extra: { version?: string; optional?: boolean } = {},
): ManifestEntry {
  return {
    variable,
    credential,
    version: extra.version === undefined ? undefined : padVersion(extra.version),
    optional: extra.optional ?? false,
    file: false,
    context: EMPTY_CONTEXT,
    source: { file: 'test.env', line: 1 },
  };
}

const ENTRIES = [
  entry('DB', 'app.db'),
  entry('TOKEN', 'app.token', { version: '3' }),
  entry('EXTRA', 'app.extra', { optional: true }),
];

/** A fake backend whose store reads and key-service decrypts can be made to fail. */
class World {
  readonly backend = new FakeBackend(1);
  readonly dir = mkdtempSync(join(tmpdir(), 'credexec-fallback-'));
  readonly path = join(this.dir, 'fallback.json');
  readonly warnings: string[] = [];
  now = NOW;
  storeFailure: Error | undefined;
  decryptFailure: Error | undefined;

  constructor() {
    this.backend.add('app.db', '1', 'db-old');
    this.backend.add('app.db', '2', 'db-canary-value');
    this.backend.add('app.token', '3', 'token-canary-value');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One credexec run: a fresh decorator over the world's backend, as each process has. */
async function run(world: World, entries: readonly ManifestEntry[] = ENTRIES) {
  world.warnings.length = 0;
  return resolveEntries(new Runner(world).source, entries);
}

class Runner {
  readonly source: ResolveSource;

  constructor(world: World, options: Partial<FallbackOptions> = {}) {
    const { store, keys } = world.backend;
    this.source = withFallback(
      {
        store: {
          description: 'fake store',
          getMany: (refs) =>
            world.storeFailure ? Promise.reject(world.storeFailure) : store.getMany(refs),
          getLatest: (name) =>
            world.storeFailure ? Promise.reject(world.storeFailure) : store.getLatest(name),
        },
        keys: {
          ...keys,
          decrypt: (blob, context) =>
            world.decryptFailure
              ? Promise.reject(world.decryptFailure)
              : keys.decrypt(blob, context),
        },
      },
      {
        path: world.path,
        maxAge: '24h',
        maxAgeMs: 24 * HOUR,
        warn: (line) => world.warnings.push(line),
        now: () => world.now,
        ...options,
      },
    );
  }
}

function summary(resolution: Resolution): string {
  if (resolution.status === 'resolved')
    return `${resolution.entry.variable}=${resolution.value.toString()} (${resolution.version}, ${resolution.origin})`;
  if (resolution.status === 'absent')
    return `${resolution.entry.variable} absent (${resolution.origin})`;
  return `${resolution.entry.variable} failed: ${messageOf(resolution.error)}`;
}

async function withWorld(body: (world: World) => Promise<void>): Promise<void> {
  const world = new World();
  try {
    await body(world);
  } finally {
    world.cleanup();
  }
}

const outage = (reason: StoreFailure = 'throttled') =>
  new StoreError('Query on table t in r: DynamoDB is throttling requests', { reason });

/** Write a fallback from the store, as a successful start does. */
async function warm(t: ExecutionContext, world: World): Promise<void> {
  const results = await run(world);
  t.deepEqual(results.map(summary), [
    'DB=db-canary-value (0000000000000000002, store)',
    'TOKEN=token-canary-value (0000000000000000003, store)',
    'EXTRA absent (store)',
  ]);
  t.deepEqual(world.warnings, []);
}

test('a resolution from the store writes the raw items it read, 0600, and nothing decrypted', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    t.is(statSync(world.path).mode & 0o777, 0o600);
    const text = readFileSync(world.path, 'utf8');
    const snapshot = parseFallback(text);
    t.is(snapshot.written, NOW);
    t.is(snapshot.store, 'fake store');
    const stored = (name: string, version: string) =>
      world.backend.items.get(`${name}\u0000${padVersion(version)}`);
    t.deepEqual(
      [...snapshot.entries.values()],
      [
        { name: 'app.db', version: undefined, item: stored('app.db', '2')! },
        { name: 'app.extra', version: undefined, item: null },
        { name: 'app.token', version: padVersion('3'), item: stored('app.token', '3')! },
      ],
    );
    for (const value of ['db-canary-value', 'token-canary-value', 'db-old']) {
      t.false(text.includes(value), value);
      t.false(text.includes(Buffer.from(value).toString('base64')), `${value} in base64`);
      t.false(text.includes(Buffer.from(value).toString('hex')), `${value} in hex`);
    }
  });
});

test('during an outage every entry comes from the fallback, through the key service, with one warning', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    const written = readFileSync(world.path, 'utf8');
    world.now = NOW + 2 * HOUR + 13 * 60_000;
    world.storeFailure = outage();
    const decryptsBefore = world.backend.calls.decrypt;
    const results = await run(world);
    t.deepEqual(results.map(summary), [
      'DB=db-canary-value (0000000000000000002, fallback)',
      'TOKEN=token-canary-value (0000000000000000003, fallback)',
      'EXTRA absent (fallback)',
    ]);
    t.is(world.backend.calls.decrypt - decryptsBefore, 2, 'decrypted by the key service');
    t.deepEqual(world.warnings, [
      `credexec: warning: using the fallback ${world.path} (written 2 h 13 min ago) for 3 of 3 secret(s): Query on table t in r: DynamoDB is throttling requests`,
    ]);
    t.is(readFileSync(world.path, 'utf8'), written, 'a run from the fallback does not rewrite it');
  });
});

test('unavailable and malformed answers are outages too; other store failures never use the fallback', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    for (const reason of ['unavailable', 'malformed'] as const) {
      world.storeFailure = outage(reason);
      t.true(
        (await run(world)).every((resolution) => resolution.status !== 'failed'),
        reason,
      );
    }
    for (const reason of ['credentials', 'failed'] as const) {
      world.storeFailure = outage(reason);
      const results = await run(world);
      t.deepEqual(
        results.map(summary)[0],
        'DB failed: Query on table t in r: DynamoDB is throttling requests',
        reason,
      );
      t.deepEqual(world.warnings, [], reason);
      t.true(existsSync(world.path), `${reason} removes nothing`);
    }
  });
});

test('an outage without a fallback file names the store failure and the missing file', async (t) => {
  await withWorld(async (world) => {
    world.storeFailure = outage();
    const results = await run(world);
    const message = `Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} does not exist`;
    t.deepEqual(results.map(summary), [
      `DB failed: ${message}`,
      `TOKEN failed: ${message}`,
      `EXTRA failed: ${message}`,
    ]);
    const failed = results[0]!;
    t.true(failed.status === 'failed' && failed.error instanceof FallbackError);
    t.deepEqual(world.warnings, []);
    t.false(existsSync(world.path));
  });
});

test('a fallback older than its maximum age is refused; one just within it is used', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    world.storeFailure = outage();
    world.now = NOW + 24 * HOUR;
    t.is((await run(world))[0]!.status, 'resolved');
    world.now = NOW + 24 * HOUR + 1;
    t.is(
      summary((await run(world))[0]!),
      `DB failed: Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} is older than its maximum age 24h (written 1 d ago)`,
    );
    t.true(
      existsSync(world.path),
      'an old fallback is kept: the next start from the store replaces it',
    );
  });
});

test('a fallback written in the future by this clock is used within 5 minutes and refused beyond', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    world.storeFailure = outage();
    world.now = NOW - 5 * 60_000;
    t.is((await run(world))[0]!.status, 'resolved');
    t.regex(world.warnings[0]!, /\(written 0 s ago\)/);
    world.now = NOW - 3 * HOUR;
    t.is(
      summary((await run(world))[0]!),
      `DB failed: Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} was written 3 h in the future by this machine's clock, so its age is unknown`,
    );
  });
});

test('a reference the fallback lacks fails, naming it; the others still come from it', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    world.storeFailure = outage();
    world.backend.add('app.new', '1', 'new');
    const results = await run(world, [
      ...ENTRIES,
      entry('NEW', 'app.new'),
      entry('OTHER', 'app.token', { version: '4' }),
    ]);
    t.deepEqual(results.map(summary), [
      'DB=db-canary-value (0000000000000000002, fallback)',
      // Pinned versions are one batch: it fails as a whole.
      `TOKEN failed: Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} has no entry for "app.token" version 0000000000000000004`,
      'EXTRA absent (fallback)',
      `NEW failed: Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} has no entry for "app.new" (latest)`,
      `OTHER failed: Query on table t in r: DynamoDB is throttling requests; the fallback ${world.path} has no entry for "app.token" version 0000000000000000004`,
    ]);
    t.deepEqual(world.warnings, [
      `credexec: warning: using the fallback ${world.path} (written 0 s ago) for 2 of 5 secret(s): Query on table t in r: DynamoDB is throttling requests`,
    ]);
  });
});

test('a fallback written for another store, a corrupt one, and one not safely yours are refused by name', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    world.storeFailure = outage();
    const prefix = 'DB failed: Query on table t in r: DynamoDB is throttling requests; ';
    const snapshot = parseFallback(readFileSync(world.path, 'utf8'));
    writeFileSync(world.path, serializeFallback({ ...snapshot, store: 'table other in r' }));
    t.is(
      summary((await run(world))[0]!),
      `${prefix}the fallback ${world.path} was written for table other in r, not fake store`,
    );
    writeFileSync(world.path, '{"format": "credexec-fal');
    t.is(
      summary((await run(world))[0]!),
      `${prefix}the fallback ${world.path} is corrupt: not valid JSON`,
    );
    writeFileSync(world.path, serializeFallback(snapshot));
    chmodSync(world.path, 0o620);
    t.is(
      summary((await run(world))[0]!),
      `${prefix}fallback file ${world.path} is writable by group or others (mode 0620); refusing to use it — run \`chmod go-w ${world.path}\``,
    );
    chmodSync(world.path, 0o600);
    if (process.getuid?.() === 0) {
      chownSync(world.path, 65534, 65534);
      t.is(
        summary((await run(world))[0]!),
        `${prefix}fallback file ${world.path} is owned by uid 65534, not by you (uid 0); refusing to use it — run \`chown 0 ${world.path}\` if you trust it`,
      );
      chownSync(world.path, 0, 0);
    }
    const link = join(world.dir, 'link.json');
    symlinkSync(world.path, link);
    t.is(
      summary((await resolveEntries(new Runner(world, { path: link }).source, ENTRIES))[0]!),
      `${prefix}the fallback ${link} is a symbolic link; refusing to follow it`,
    );
    t.is((await run(world))[0]!.status, 'resolved', 'the file itself is fine again');
  });
});

test('a store that works replaces a corrupt fallback without reading it', async (t) => {
  await withWorld(async (world) => {
    writeFileSync(world.path, 'garbage', { mode: 0o600 });
    await warm(t, world);
    t.is(parseFallback(readFileSync(world.path, 'utf8')).entries.size, 3);
  });
});

test('definite answers remove the fallback: not found, access denied, no table, key refusals', async (t) => {
  const cases: [string, (world: World) => void, string][] = [
    [
      'a required credential the store does not have',
      (world) => world.backend.items.delete(`app.token\u0000${padVersion('3')}`),
      'credential "app.token" version 0000000000000000003 not found in fake store',
    ],
    [
      'access denied by the store',
      (world) => {
        world.storeFailure = new StoreError('Query on t: access denied', {
          reason: 'access-denied',
        });
      },
      'Query on t: access denied',
    ],
    [
      'the table is gone',
      (world) => {
        world.storeFailure = new SetupRequiredError('table t not found in region r');
      },
      'table t not found in region r',
    ],
    ...(['access-denied', 'key-disabled', 'key-not-found'] as const).map(
      (reason): [string, (world: World) => void, string] => [
        `the key service: ${reason}`,
        (world) => {
          world.decryptFailure = new KeyServiceError(reason, `KMS says ${reason}`);
        },
        `cannot decrypt credential "app.db" version 0000000000000000002: KMS says ${reason}`,
      ],
    ),
    [
      'the key service, during an outage (the fallback item is refused too)',
      (world) => {
        world.storeFailure = outage();
        world.decryptFailure = new KeyServiceError('key-disabled', 'the KMS key is disabled');
      },
      'cannot decrypt credential "app.db" version 0000000000000000002: the KMS key is disabled',
    ],
  ];
  for (const [label, breakIt, reason] of cases) {
    await withWorld(async (world) => {
      await warm(t, world);
      breakIt(world);
      const results = await run(world);
      t.true(
        results.some((resolution) => resolution.status === 'failed'),
        label,
      );
      t.false(existsSync(world.path), label);
      t.deepEqual(
        world.warnings,
        [`credexec: warning: removed the fallback ${world.path}: ${reason}`],
        label,
      );
    });
  }
});

test('a credential the store lacks but the run does not need, and credential trouble, remove nothing', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    // The optional app.extra is absent again: recorded as absent, the file is rewritten.
    world.now = NOW + HOUR;
    await run(world);
    t.is(parseFallback(readFileSync(world.path, 'utf8')).written, NOW + HOUR);
    // KMS refusing the caller's expired credentials is not a refusal of the key.
    const expired = Object.assign(new Error('expired'), { name: 'ExpiredTokenException' });
    world.decryptFailure = new KeyServiceError('access-denied', 'credentials were rejected', {
      cause: expired,
    });
    const results = await run(world);
    t.is(results[0]!.status, 'failed');
    t.true(existsSync(world.path));
    t.deepEqual(world.warnings, []);
    // Nor is KMS throttling: the resolution failed, so nothing is written either.
    world.decryptFailure = new KeyServiceError('throttled', 'KMS is throttling');
    world.now = NOW + 2 * HOUR;
    await run(world);
    t.is(parseFallback(readFileSync(world.path, 'utf8')).written, NOW + HOUR);
  });
});

test('an absence the fallback recorded is no definite answer: a now-required entry fails, nothing is removed', async (t) => {
  await withWorld(async (world) => {
    await warm(t, world);
    world.storeFailure = outage();
    const results = await run(world, [entry('EXTRA', 'app.extra')]);
    t.is(summary(results[0]!), 'EXTRA failed: credential "app.extra" not found in fake store');
    t.true(existsSync(world.path));
  });
});

test('a fallback that cannot be written is a warning; the resolution stands', async (t) => {
  await withWorld(async (world) => {
    const missing = join(world.dir, 'no-such-dir', 'fallback.json');
    const results = await resolveEntries(new Runner(world, { path: missing }).source, ENTRIES);
    t.true(results.every((resolution) => resolution.status !== 'failed'));
    t.deepEqual(world.warnings, [
      `credexec: warning: cannot write the fallback ${missing}: ENOENT`,
    ]);
  });
});

test('the items in the file are exactly the store items: pinned, latest and absent', (t) => {
  const item: CredentialItem = {
    name: 'n',
    version: padVersion('7'),
    key: 'a2V5',
    contents: 'Y29udGVudHM=',
    hmac: 'ABCDEF',
    digest: 'SHA512',
    comment: 'a comment',
  };
  const snapshot = {
    written: NOW,
    store: 'table t in r',
    entries: new Map([
      ['a', { name: 'n', version: undefined, item }],
      ['b', { name: 'n', version: item.version, item }],
      ['c', { name: 'gone', version: undefined, item: null }],
    ]),
  };
  const parsed = parseFallback(serializeFallback(snapshot));
  t.deepEqual(
    [...parsed.entries.values()],
    [
      { name: 'gone', version: undefined, item: null },
      { name: 'n', version: undefined, item: { ...item, hmac: 'abcdef' } },
      { name: 'n', version: item.version, item: { ...item, hmac: 'abcdef' } },
    ],
  );
});

test('corrupt fallback files are named by what is wrong, never by quoting them', (t) => {
  const good = JSON.parse(
    serializeFallback({
      written: NOW,
      store: 's',
      entries: new Map([['a', { name: 'n', version: undefined, item: null }]]),
    }),
  ) as Record<string, unknown>;
  const cases: [string, string][] = [
    ['', 'empty'],
    ['[1]', 'not a credexec-fallback file'],
    [
      JSON.stringify({ ...good, formatVersion: 2 }),
      'unsupported format version (this credexec reads version 1)',
    ],
    [JSON.stringify({ ...good, written: 'yesterday' }), '"written" is not a time'],
    [JSON.stringify({ ...good, store: 1 }), '"store" is missing'],
    [JSON.stringify({ ...good, entries: {} }), '"entries" is not a list'],
    [JSON.stringify({ ...good, entries: [1] }), 'entry 0 is not an object'],
    [JSON.stringify({ ...good, entries: [{ version: null, item: null }] }), 'entry 0 has no name'],
    [
      JSON.stringify({ ...good, entries: [{ name: 'n', version: 3, item: null }] }),
      'entry 0: "version" must be a string or null',
    ],
    [
      JSON.stringify({ ...good, entries: [{ name: 'n', version: null, item: 'secret-ish' }] }),
      'entry 0: "item" must be an object or null',
    ],
    [
      JSON.stringify({
        ...good,
        entries: [
          {
            name: 'n',
            version: null,
            item: { name: { S: 'm' }, version: { S: '1' }, key: { S: 'k' }, hmac: { S: 'h' } },
          },
        ],
      }),
      'entry 0: the item is not "n" (latest)',
    ],
    [
      JSON.stringify({
        ...good,
        entries: [{ name: 'n', version: null, item: { name: { S: 'n' }, version: { S: '1' } } }],
      }),
      'entry 0 "n" version 1: attribute "key" is missing',
    ],
    [
      JSON.stringify({
        ...good,
        entries: [
          { name: 'n', version: null, item: null },
          { name: 'n', version: null, item: null },
        ],
      }),
      '"n" (latest) is listed twice',
    ],
  ];
  for (const [text, reason] of cases) {
    const error = t.throws(() => parseFallback(text), undefined, text);
    t.is(error?.message, reason, text);
  }
});

test('the decorator passes close() on and describes the same store', (t) => {
  let closed = 0;
  const backend = new FakeBackend(0);
  const source = withFallback(
    { store: backend.store, keys: backend.keys, close: () => closed++ },
    { path: '/nonexistent/f', maxAge: '1h', maxAgeMs: HOUR, warn: () => undefined },
  );
  source.close?.();
  t.is(closed, 1);
  t.is(source.store.description, 'fake store');
  t.is(source.keys, backend.keys);
});
