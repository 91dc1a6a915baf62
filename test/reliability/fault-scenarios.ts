import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { padVersion } from '../../src/envelope/version.js';
import type { Misbehaviour } from '../support/faulty-endpoint.js';
import { closedPort } from '../support/faulty-endpoint.js';
import { killAndWait, startLockHolder } from '../support/lock-holder.js';
import { PUT, type AwsWorld, type LocalWorld, type LocalWorldOptions } from './fault-worlds.js';

/**
 * The fault matrix (issue 9): every fault credexec must survive, as data. Each fault expands into
 * one scenario per way of running credexec (`via`), and each scenario becomes one row of
 * docs/reliability.md and one test. To add a row, add a fault below (or a via to a fault's list):
 * say what the message must name, and inject the fault into the world it is given.
 */

/** How credexec is run: the launcher (direct transport or the SDK), `get`, or `put`. */
export type Via = 'launcher' | 'launcher-sdk' | 'get' | 'put';

/** What a scenario may end as; most must fail cleanly. */
export type Outcome = 'fails' | 'succeeds' | 'dies-of-sigterm';

/** Something a failure message must name, e.g. the credential or the cause. */
export interface Mention {
  readonly what: string;
  readonly pattern: RegExp;
}

interface ScenarioBase {
  /** Unique and stable: `<fault id>/<via>`. */
  readonly id: string;
  /** The fault, in words, for the document. */
  readonly fault: string;
  readonly via: Via;
  readonly outcomes: readonly Outcome[];
  /** What the error must name (checked only when the run fails). */
  readonly mentions: readonly Mention[];
  /** Variables the scenario sets on top of the world's; shown in the command. */
  readonly env: Readonly<Record<string, string>>;
  /** The launcher's manifest (in the world's directory). */
  readonly manifest: 'app.env' | 'pinned.env' | 'app.json';
  /** An encryption context given on the command line (`--context K=V` / `get NAME K=V`). */
  readonly context?: string;
  /** The runner kills a run that takes longer, and reports it as hung. */
  readonly timeoutMs: number;
  /** Known to take many seconds (or to hang today): started first, so the matrix ends sooner. */
  readonly slow: boolean;
}

export interface AwsScenario extends ScenarioBase {
  readonly backend: 'aws';
  inject(world: AwsWorld, via: Via): Promise<void> | void;
  /** Runs once the command is started (e.g. to signal it); the command's end is awaited after. */
  whileRunning?(world: AwsWorld, command: ChildProcess): Promise<void>;
}

export interface LocalScenario extends ScenarioBase {
  readonly backend: 'local';
  readonly world: LocalWorldOptions;
  inject(world: LocalWorld, via: Via): Promise<void> | void;
}

export type Scenario = AwsScenario | LocalScenario;

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Each attempt times out quickly, so that rows about silent endpoints finish in seconds; not so
 * quickly that the other, healthy service of the row could miss it on a busy machine.
 */
const SHORT_TIMEOUTS = {
  CREDEXEC_AWS_TIMEOUT_MS: '2000',
  CREDEXEC_AWS_CONNECT_TIMEOUT_MS: '2000',
};
/** Two attempts of two seconds each and a backoff: a row still running after this is hung. */
const SHORT_TIMEOUTS_ROW_MS = 15_000;

const ALL_VIAS: readonly Via[] = ['launcher', 'launcher-sdk', 'get', 'put'];
const READS: readonly Via[] = ['launcher', 'launcher-sdk', 'get'];

const mention = (what: string, pattern: RegExp): Mention => ({ what, pattern });

function credentialOf(via: Via): Mention {
  return via === 'put'
    ? mention('the credential', new RegExp(PUT.name.replace('.', '\\.')))
    : mention('the credential', /app\.secret/);
}

const TABLE = mention('the table', /credential-store/);
const KMS = mention('KMS', /\bKMS\b/);
const STORE_FILE = mention('the store file', /credential-store\.json/);

interface AwsFaultSpec {
  readonly id: string;
  readonly fault: string;
  readonly vias: readonly Via[];
  /** The service at fault; its resource must be named (the table, or KMS). */
  readonly service: 'dynamodb' | 'kms' | 'none';
  readonly cause: Mention | readonly Mention[];
  readonly env?: Readonly<Record<string, string>>;
  readonly manifest?: ScenarioBase['manifest'];
  readonly context?: string;
  readonly outcomes?: readonly Outcome[];
  readonly resource?: Mention;
  readonly slow?: boolean;
  inject(world: AwsWorld, via: Via): Promise<void> | void;
  whileRunning?(world: AwsWorld, command: ChildProcess): Promise<void>;
}

function awsFault(spec: AwsFaultSpec): AwsScenario[] {
  const causes = Array.isArray(spec.cause) ? spec.cause : [spec.cause as Mention];
  const resource =
    spec.resource ??
    (spec.service === 'dynamodb' ? TABLE : spec.service === 'kms' ? KMS : undefined);
  return spec.vias.map((via) => ({
    id: `${spec.id}/${via}`,
    fault: spec.fault,
    backend: 'aws',
    via,
    outcomes: spec.outcomes ?? ['fails'],
    mentions: [credentialOf(via), ...(resource === undefined ? [] : [resource]), ...causes],
    env: spec.env ?? {},
    manifest: spec.manifest ?? 'app.env',
    ...(spec.context === undefined ? {} : { context: spec.context }),
    timeoutMs: spec.env === SHORT_TIMEOUTS ? SHORT_TIMEOUTS_ROW_MS : DEFAULT_TIMEOUT_MS,
    slow: spec.slow ?? false,
    inject: spec.inject,
    ...(spec.whileRunning === undefined ? {} : { whileRunning: spec.whileRunning }),
  }));
}

interface LocalFaultSpec {
  readonly id: string;
  readonly fault: string;
  readonly vias: readonly Via[];
  readonly mentions: (via: Via) => readonly Mention[];
  readonly world?: LocalWorldOptions;
  readonly manifest?: ScenarioBase['manifest'];
  readonly outcomes?: readonly Outcome[];
  readonly slow?: boolean;
  inject(world: LocalWorld, via: Via): Promise<void> | void;
}

function localFault(spec: LocalFaultSpec): LocalScenario[] {
  return spec.vias.map((via) => ({
    id: `${spec.id}/${via}`,
    fault: spec.fault,
    backend: 'local',
    via,
    outcomes: spec.outcomes ?? ['fails'],
    mentions: spec.mentions(via),
    env: {},
    manifest: spec.manifest ?? 'app.env',
    timeoutMs: DEFAULT_TIMEOUT_MS,
    slow: spec.slow ?? false,
    world: spec.world ?? {},
    inject: spec.inject,
  }));
}

/** A DynamoDB error answer from the counting proxy, for every request from now on. */
function dynamoDbFails(world: AwsWorld, type: string, status: number, message?: string): void {
  world.fixture.dynamodb.failNext(
    { type, status, ...(message === undefined ? {} : { message }) },
    Number.MAX_SAFE_INTEGER,
  );
}

function kmsFails(world: AwsWorld, type: string, status: number, message?: string): void {
  world.fixture.kms.failNext(
    { type, status, ...(message === undefined ? {} : { message }) },
    Number.MAX_SAFE_INTEGER,
  );
}

async function dynamoDbMisbehaves(world: AwsWorld, behaviour: Misbehaviour): Promise<void> {
  (await world.faultyDynamoDb()).misbehave(behaviour);
}

async function kmsMisbehaves(world: AwsWorld, behaviour: Misbehaviour): Promise<void> {
  (await world.faultyKms()).misbehave(behaviour);
}

const HTML_PAGE = '<html><body><h1>502 Bad Gateway</h1></body></html>';
const OVERSIZE: Misbehaviour = {
  kind: 'stall',
  declaredBytes: 5 * 1024 ** 3,
  sentBytes: 8 * 1024 ** 2,
};
const STALL: Misbehaviour = { kind: 'stall', declaredBytes: 4096, sentBytes: 16 };

const THROTTLED = mention('the cause (throttling)', /throttl|rate exceeded|throughput/i);
const SERVER_ERROR = mention(
  'the cause (a server error)',
  /internal|server error|unavailable|\b5\d\d\b/i,
);
const DENIED = mention('the cause (access denied)', /denied|not authori[sz]ed/i);
const REFUSED = mention('the cause (connection refused)', /refused|cannot connect/i);
const NO_ANSWER = mention('the cause (no answer in time)', /timed out|time-?out|no answer/i);
const CLOSED = mention('the cause (the connection was closed)', /closed|reset|hang up|ECONNRESET/i);
const TRUNCATED = mention(
  'the cause (a cut-short answer)',
  /truncat|incomplete|cut short|ended (early|before)|premature|before the end/i,
);
const TOO_LARGE = mention(
  'the cause (an oversized answer)',
  /too (large|big)|oversized|exceeds|larger than|size limit/i,
);
const MALFORMED = mention(
  'the cause (a malformed answer)',
  /malformed|invalid|not (valid )?JSON|unexpected (shape|format|answer|response)|not an? (list|array|object|string)|did not return/i,
);

export const SCENARIOS: readonly Scenario[] = [
  // --- aws: the services say no -------------------------------------------------------------
  ...awsFault({
    id: 'dynamodb-throttled',
    fault: 'DynamoDB throttles every request (past all retries)',
    vias: ALL_VIAS,
    service: 'dynamodb',
    cause: THROTTLED,
    inject: (world) => dynamoDbFails(world, 'ProvisionedThroughputExceededException', 400),
  }),
  ...awsFault({
    id: 'kms-throttled',
    fault: 'KMS throttles every request (past all retries)',
    vias: ALL_VIAS,
    service: 'kms',
    cause: THROTTLED,
    inject: (world) => kmsFails(world, 'ThrottlingException', 400, 'Rate exceeded'),
  }),
  ...awsFault({
    id: 'dynamodb-5xx',
    fault: 'DynamoDB answers 500 InternalServerError to everything',
    vias: ALL_VIAS,
    service: 'dynamodb',
    cause: SERVER_ERROR,
    inject: (world) => dynamoDbFails(world, 'InternalServerError', 500, 'Internal server error'),
  }),
  ...awsFault({
    id: 'kms-5xx',
    fault: 'KMS answers 500 KMSInternalException to everything',
    vias: ALL_VIAS,
    service: 'kms',
    cause: SERVER_ERROR,
    inject: (world) => kmsFails(world, 'KMSInternalException', 500, 'Internal error'),
  }),
  ...awsFault({
    id: 'dynamodb-denied',
    fault: 'DynamoDB denies access (AccessDeniedException)',
    vias: ALL_VIAS,
    service: 'dynamodb',
    cause: DENIED,
    inject: (world) =>
      dynamoDbFails(
        world,
        'AccessDeniedException',
        400,
        'User: arn:aws:iam::111122223333:user/test is not authorized to perform this action on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/credential-store',
      ),
  }),
  ...awsFault({
    id: 'kms-denied',
    fault: 'KMS denies Decrypt and GenerateDataKey (AccessDeniedException)',
    vias: ALL_VIAS,
    service: 'kms',
    cause: DENIED,
    inject(world) {
      world.fixture.kms.deny('Decrypt');
      world.fixture.kms.deny('GenerateDataKey');
    },
  }),
  ...awsFault({
    id: 'kms-key-disabled',
    fault: 'The KMS key is disabled',
    vias: ALL_VIAS,
    service: 'kms',
    cause: mention('the cause (the key is disabled)', /disabled/i),
    inject: (world) => world.fixture.kms.setKeyEnabled(world.fixture.kms.defaultKey.keyId, false),
  }),
  ...awsFault({
    id: 'wrong-context',
    fault: 'Wrong encryption context (KMS: InvalidCiphertextException)',
    vias: READS,
    service: 'none',
    context: 'env=prod',
    cause: mention('the cause (the context does not match)', /context|invalid ?ciphertext/i),
    inject: () => undefined,
  }),
  ...awsFault({
    id: 'tampered-item',
    fault: 'The latest item was tampered with (HMAC mismatch)',
    vias: READS,
    service: 'none',
    cause: mention('an integrity failure', /integrity/i),
    async inject(world) {
      const store = world.seedBackend.store;
      const item = await store.get({ name: 'app.secret', version: padVersion('2') });
      if (item === undefined) throw new Error('seeded item app.secret@2 is missing');
      const flipped = (item.hmac[0] === '0' ? '1' : '0') + item.hmac.slice(1);
      await store.put({ ...item, version: padVersion('3'), hmac: flipped });
    },
  }),
  ...awsFault({
    id: 'missing-table',
    fault: 'The table does not exist',
    vias: ALL_VIAS,
    service: 'dynamodb',
    resource: mention('the table', /no-such-table/),
    env: { CREDSTASH_DEFAULT_TABLE: 'no-such-table' },
    cause: mention('the cause (no such table)', /not found|does not exist|no such table|setup/i),
    inject: () => undefined,
  }),
  // --- aws: the network fails ---------------------------------------------------------------
  ...awsFault({
    id: 'dynamodb-refused',
    fault: 'DynamoDB refuses the connection',
    vias: ALL_VIAS,
    service: 'dynamodb',
    cause: REFUSED,
    async inject(world) {
      world.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${await closedPort()}`;
    },
  }),
  ...awsFault({
    id: 'kms-refused',
    fault: 'KMS refuses the connection',
    vias: ALL_VIAS,
    service: 'kms',
    cause: REFUSED,
    async inject(world) {
      world.env.AWS_ENDPOINT_URL_KMS = `http://127.0.0.1:${await closedPort()}`;
    },
  }),
  ...awsFault({
    id: 'dynamodb-silent',
    fault: 'DynamoDB accepts the connection but never answers',
    vias: ALL_VIAS,
    service: 'dynamodb',
    env: SHORT_TIMEOUTS,
    cause: NO_ANSWER,
    inject: (world) => dynamoDbMisbehaves(world, { kind: 'hang' }),
  }),
  ...awsFault({
    id: 'kms-silent',
    fault: 'KMS accepts the connection but never answers',
    vias: ALL_VIAS,
    service: 'kms',
    env: SHORT_TIMEOUTS,
    cause: NO_ANSWER,
    inject: (world) => kmsMisbehaves(world, { kind: 'hang' }),
  }),
  ...awsFault({
    id: 'dynamodb-reset',
    fault: 'DynamoDB closes the connection without answering',
    vias: ALL_VIAS,
    service: 'dynamodb',
    cause: CLOSED,
    inject: (world) => dynamoDbMisbehaves(world, { kind: 'reset' }),
  }),
  ...awsFault({
    id: 'kms-reset',
    fault: 'KMS closes the connection without answering',
    vias: ALL_VIAS,
    service: 'kms',
    cause: CLOSED,
    inject: (world) => kmsMisbehaves(world, { kind: 'reset' }),
  }),
  ...awsFault({
    id: 'dynamodb-truncated',
    fault: 'DynamoDB cuts its answer short (half the announced body, then closes)',
    vias: READS,
    service: 'dynamodb',
    cause: TRUNCATED,
    inject: (world) => dynamoDbMisbehaves(world, { kind: 'truncate' }),
  }),
  ...awsFault({
    id: 'kms-truncated',
    fault: 'KMS cuts its answer short (half the announced body, then closes)',
    vias: ALL_VIAS,
    service: 'kms',
    cause: TRUNCATED,
    inject: (world) => kmsMisbehaves(world, { kind: 'truncate' }),
  }),
  ...awsFault({
    id: 'dynamodb-oversized',
    fault: 'DynamoDB announces a 5 GiB answer (sends 8 MiB, then stalls)',
    vias: READS,
    service: 'dynamodb',
    env: SHORT_TIMEOUTS,
    cause: TOO_LARGE,
    slow: true,
    inject: (world) => dynamoDbMisbehaves(world, OVERSIZE),
  }),
  ...awsFault({
    id: 'kms-oversized',
    fault: 'KMS announces a 5 GiB answer (sends 8 MiB, then stalls)',
    vias: ['launcher', 'get', 'put'],
    service: 'kms',
    env: SHORT_TIMEOUTS,
    cause: TOO_LARGE,
    slow: true,
    inject: (world) => kmsMisbehaves(world, OVERSIZE),
  }),
  ...awsFault({
    id: 'dynamodb-stalls',
    fault: 'DynamoDB sends the headers and 16 bytes of a 4 KiB answer, then nothing',
    vias: READS,
    service: 'dynamodb',
    env: SHORT_TIMEOUTS,
    cause: NO_ANSWER,
    slow: true,
    inject: (world) => dynamoDbMisbehaves(world, STALL),
  }),
  ...awsFault({
    id: 'kms-stalls',
    fault: 'KMS sends the headers and 16 bytes of a 4 KiB answer, then nothing',
    vias: ALL_VIAS,
    service: 'kms',
    env: SHORT_TIMEOUTS,
    cause: NO_ANSWER,
    slow: true,
    inject: (world) => kmsMisbehaves(world, STALL),
  }),
  // --- aws: answers that do not make sense --------------------------------------------------
  ...awsFault({
    id: 'dynamodb-not-json',
    fault: 'DynamoDB answers 200 with an HTML page',
    vias: READS,
    service: 'dynamodb',
    cause: MALFORMED,
    inject: (world) =>
      dynamoDbMisbehaves(world, {
        kind: 'respond',
        status: 200,
        body: HTML_PAGE,
        contentType: 'text/html',
      }),
  }),
  ...awsFault({
    id: 'dynamodb-items-not-a-list',
    fault: 'DynamoDB answers a Query with `{"Items":"nope"}`',
    vias: READS,
    service: 'dynamodb',
    cause: MALFORMED,
    inject: (world) =>
      dynamoDbMisbehaves(world, { kind: 'respond', status: 200, body: '{"Items":"nope"}' }),
  }),
  ...awsFault({
    id: 'dynamodb-responses-not-a-list',
    fault: 'DynamoDB answers a BatchGetItem with `{"Responses":{"credential-store":"nope"}}`',
    vias: ['launcher', 'launcher-sdk'],
    service: 'dynamodb',
    manifest: 'pinned.env',
    cause: MALFORMED,
    inject: (world) =>
      dynamoDbMisbehaves(world, {
        kind: 'respond',
        status: 200,
        body: '{"Responses":{"credential-store":"nope"}}',
      }),
  }),
  ...awsFault({
    id: 'dynamodb-numeric-version',
    fault: 'DynamoDB returns the item with a numeric version (`{"N":"2"}`)',
    vias: READS,
    service: 'dynamodb',
    cause: [mention('the attribute (version)', /version/i), MALFORMED],
    inject: (world) =>
      dynamoDbMisbehaves(world, {
        kind: 'rewrite',
        rewrite: (body) => body.replace(/"version":\{"S":"0*(\d+)"\}/g, '"version":{"N":"$1"}'),
      }),
  }),
  ...awsFault({
    id: 'kms-not-json',
    fault: 'KMS answers 200 with an HTML page',
    vias: ['launcher', 'get', 'put'],
    service: 'kms',
    cause: MALFORMED,
    inject: (world) =>
      kmsMisbehaves(world, {
        kind: 'respond',
        status: 200,
        body: HTML_PAGE,
        contentType: 'text/html',
      }),
  }),
  ...awsFault({
    id: 'kms-no-plaintext',
    fault: 'KMS answers Decrypt without a Plaintext',
    vias: ['launcher', 'get'],
    service: 'kms',
    cause: MALFORMED,
    inject: (world) =>
      kmsMisbehaves(world, {
        kind: 'respond',
        status: 200,
        body: '{"KeyId":"arn:aws:kms:eu-west-1:111122223333:key/x","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}',
      }),
  }),
  // --- aws: a signal while the secrets are being resolved -----------------------------------
  ...awsFault({
    id: 'sigterm-while-resolving',
    fault: 'SIGTERM reaches credexec while it waits for KMS (which never answers)',
    vias: ['launcher', 'launcher-sdk'],
    service: 'none',
    outcomes: ['dies-of-sigterm'],
    cause: [],
    inject: (world) => kmsMisbehaves(world, { kind: 'hang' }),
    async whileRunning(world, command) {
      const kms = await world.faultyKms();
      const deadline = Date.now() + 15_000;
      while (kms.count('Decrypt') === 0 && Date.now() < deadline) await sleep(20);
      command.kill('SIGTERM');
    },
  }),
  // --- local: the file system fails ---------------------------------------------------------
  ...localFault({
    id: 'local-disk-full',
    fault:
      "The store's file system has no free block (the lock, a directory and a socket, still fits)",
    vias: ['put'],
    world: { storeTmpfsKiB: 256 },
    mentions: () => [STORE_FILE, mention('the cause (no space)', /ENOSPC|no space/i)],
    inject: (world) => world.fill(world.storeDir, 0),
  }),
  ...localFault({
    id: 'local-out-of-inodes',
    fault: "The store's file system has no free inode (not even the lock fits)",
    vias: ['put'],
    world: { storeTmpfsKiB: 256 },
    mentions: () => [STORE_FILE, mention('the cause (no space)', /ENOSPC|no space/i)],
    inject: (world) => world.fillInodes(world.storeDir),
  }),
  ...localFault({
    id: 'local-secret-files-full',
    fault: 'The secret-file directory (XDG_RUNTIME_DIR) is on a full file system',
    vias: ['launcher'],
    manifest: 'app.json',
    world: { runtimeTmpfsKiB: 64 },
    mentions: () => [
      mention('the variable or credential', /SECRET|app\.secret/),
      mention('the cause (no space)', /ENOSPC|no space/i),
    ],
    inject: (world) => world.fill(world.runtimeDir, 0),
  }),
  ...localFault({
    id: 'local-read-only',
    fault: "The store's file system is read-only",
    vias: ['put'],
    world: { storeTmpfsKiB: 256 },
    mentions: () => [STORE_FILE, mention('the cause (read-only)', /EROFS|read-only/i)],
    inject: (world) => world.remountReadOnly(world.storeDir),
  }),
  ...localFault({
    id: 'local-secret-files-read-only',
    fault: 'The secret-file directory (XDG_RUNTIME_DIR) is read-only',
    vias: ['launcher'],
    manifest: 'app.json',
    world: { runtimeTmpfsKiB: 64 },
    mentions: () => [
      mention('the variable or credential', /SECRET|app\.secret/),
      mention('the cause (read-only)', /EROFS|read-only/i),
    ],
    inject: (world) => world.remountReadOnly(world.runtimeDir),
  }),
  // --- local: what a crash leaves behind ----------------------------------------------------
  ...localFault({
    id: 'local-corrupt-store',
    fault: 'The store file was cut short (not valid JSON)',
    vias: ['launcher', 'get', 'put'],
    mentions: (via) => [
      ...(via === 'put' ? [] : [credentialOf(via)]),
      STORE_FILE,
      mention('the cause (corrupt)', /corrupt|not valid JSON/i),
    ],
    inject(world) {
      const text = readFileSync(world.storeFile);
      writeFileSync(world.storeFile, text.subarray(0, Math.floor(text.length / 2)));
    },
  }),
  ...localFault({
    id: 'local-stale-lock',
    fault: 'A lock left by a writer that was SIGKILLed while it held it',
    vias: ['launcher', 'put'],
    outcomes: ['succeeds'],
    mentions: () => [],
    async inject(world) {
      await killAndWait(await startLockHolder(world.storeFile));
    },
  }),
  ...localFault({
    id: 'local-old-lock',
    fault: 'A lock file of an older credexec (a pid) whose writer is gone, an hour old',
    vias: ['put'],
    outcomes: ['succeeds'],
    mentions: () => [],
    async inject(world) {
      writeFileSync(world.lockFile, String(await deadPid()));
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(world.lockFile, anHourAgo, anHourAgo);
    },
  }),
  ...localFault({
    id: 'local-empty-lock',
    fault: 'An empty lock file, ten minutes old (an older writer killed before it wrote its pid)',
    vias: ['put'],
    outcomes: ['succeeds'],
    mentions: () => [mention('the lock file', /credential-store\.json\.lock/)],
    inject(world) {
      writeFileSync(world.lockFile, '');
      const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
      utimesSync(world.lockFile, tenMinutesAgo, tenMinutesAgo);
    },
  }),
];

/** The pid of a process that was just SIGKILLed and reaped: no process has it now. */
async function deadPid(): Promise<number> {
  const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => victim.once('exit', resolve));
  victim.kill('SIGKILL');
  await exited;
  if (victim.pid === undefined) throw new Error('could not start a process to kill');
  return victim.pid;
}
