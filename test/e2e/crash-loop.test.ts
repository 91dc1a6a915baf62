import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { openBackend } from '../../src/backends/open-backend.js';
import { padVersion } from '../../src/envelope/version.js';
import { getSecret } from '../../src/secrets/read-secrets.js';
import { BIN, runCli, tempLocalDir } from '../support/cli.js';

/**
 * Writers are killed at random moments (SIGKILL: no clean-up of any kind), two at a time racing
 * for the lock. Whatever the moment, the store must stay whole, every acknowledged put must be
 * there with its value, and no leftover (lock, temp file) may stop or slow the next writer.
 */
const SEED = 0x5eed_2026;
const ITERATIONS = 100;
const WRITERS = 2;
const CHECK_EVERY = 10;

/** mulberry32: a tiny PRNG, so the kill moments are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface PutRun {
  readonly value: string;
  readonly killed: boolean;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** When to SIGKILL a writer: never, after some time, or at the n-th lock or temp file event. */
type Kill = { readonly afterMs: number } | { readonly atEvent: number } | undefined;

function put(
  env: Record<string, string | undefined>,
  value: string,
  kill?: Kill,
  events?: EventEmitter,
) {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'put', '-a', 'name', value], {
    env: { ...env, CREDEXEC_DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let killed = false;
  const killNow = () => {
    killed = child.kill('SIGKILL');
  };
  const timer = kill && 'afterMs' in kill ? setTimeout(killNow, kill.afterMs) : undefined;
  let seen = 0;
  const onEvent = () => {
    if (kill && 'atEvent' in kill && ++seen === kill.atEvent) killNow();
  };
  events?.on('lock-or-temp', onEvent);
  return new Promise<PutRun>((resolve) => {
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      events?.off('lock-or-temp', onEvent);
      resolve({ value, killed, exitCode, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const ACK = /^name has been stored as version (\d{19})\n$/;

test('puts SIGKILLed at random moments never corrupt the store, lose an acknowledged put or wedge the next writer', async (t) => {
  t.timeout(150_000);
  const { dir, env, cleanup } = tempLocalDir();
  t.teardown(cleanup);
  const localDir = join(dir, 'store');
  t.is((await runCli(['setup'], { env })).exitCode, 0);
  const backend = await openBackend({ backend: 'local', localDir }, {});
  const random = prng(SEED);
  // Kills aimed at the moments a writer holds the lock or has a temp file: what a crash must survive.
  const events = new EventEmitter();
  const watcher = watch(localDir, (_type, name) => {
    if (name !== null && /\.(lock|tmp)\b/.test(name)) events.emit('lock-or-temp');
  });
  t.teardown(() => watcher.close());
  const attempted = new Set<string>();
  const acknowledged = new Map<string, string>(); // version -> value
  let kills = 0;

  const check = async (when: string) => {
    const versions = (await backend.store.versions('name')).map((ref) => ref.version);
    // Contiguous from 1: a version is only ever computed from the one before it.
    t.deepEqual(
      versions,
      versions.map((_, index) => padVersion(String(index + 1))),
      when,
    );
    const seen = new Set<string>();
    for (const version of versions) {
      const value = (await getSecret(backend, { name: 'name', version })).toString('utf8');
      t.true(attempted.has(value), `${when}: version ${version} holds a value never put`);
      t.false(seen.has(value), `${when}: ${value} stored twice`);
      seen.add(value);
    }
    for (const [version, value] of acknowledged) {
      t.true(versions.includes(version), `${when}: acknowledged version ${version} is missing`);
      t.is((await getSecret(backend, { name: 'name', version })).toString('utf8'), value, when);
    }
  };

  // How long a put takes here: the kill moments are spread around it.
  const warmUp = await put(env, 'warm-up');
  t.is(warmUp.exitCode, 0, warmUp.stderr);
  attempted.add('warm-up');
  acknowledged.set(ACK.exec(warmUp.stdout)![1]!, 'warm-up');
  let typicalMs = warmUp.ms;

  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const runs = await Promise.all(
      Array.from({ length: WRITERS }, (_, writer) => {
        const value = `value-${iteration}-${writer}`;
        attempted.add(value);
        // One in four runs to the end; the others die at a random moment of their life or at
        // one of the first lock or temp file events in the directory (theirs or the other's).
        const dice = random();
        const kill: Kill =
          dice < 0.25
            ? undefined
            : dice < 0.6
              ? { afterMs: Math.round(typicalMs * (0.4 + 0.8 * random())) }
              : { atEvent: 1 + Math.floor(random() * 6) };
        return put(env, value, kill, events);
      }),
    );
    for (const run of runs) {
      const ack = ACK.exec(run.stdout);
      if (ack !== null) acknowledged.set(ack[1]!, run.value);
      if (run.killed) {
        kills++;
        continue;
      }
      // A writer that was not killed always succeeds: no leftover may block it.
      t.is(run.exitCode, 0, `iteration ${iteration}: ${run.stderr}`);
      t.not(ack, null, `iteration ${iteration}: ${run.stdout}`);
      typicalMs = Math.round(0.8 * typicalMs + 0.2 * run.ms);
    }
    if ((iteration + 1) % CHECK_EVERY === 0) await check(`after iteration ${iteration}`);
  }

  // The next writer is neither wedged nor slowed down by whatever the kills left behind.
  const last = await put(env, 'last');
  attempted.add('last');
  t.is(last.exitCode, 0, last.stderr);
  acknowledged.set(ACK.exec(last.stdout)![1]!, 'last');
  t.true(last.ms < 10_000, `the last put took ${last.ms} ms`);
  await check('at the end');
  // A successful write leaves no lock and no temp file of any killed writer.
  t.deepEqual(readdirSync(localDir).sort(), ['credential-store.json', 'master.key']);
  t.true(kills > ITERATIONS, `only ${kills} writers were killed`);
  t.log(`${kills} writers killed, ${acknowledged.size} puts acknowledged`);
});
