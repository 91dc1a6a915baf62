import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { planPinning } from '../../bench/affinity.js';
import type { BenchReport } from '../../bench/run.js';
import { REPO_ROOT } from '../support/vectors.js';

// Every section once, at tiny sizes: 40–60 s on the shared 2-core machine (load average 6–9).
const BENCH_LIMIT_MS = 160_000;

function runBench(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'bench', 'run.ts'), ...args],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), BENCH_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(output).toString('utf8') });
    });
  });
}

const positive = (value: number) => Number.isFinite(value) && value > 0;

test('the bench runs with tiny sizes and writes a report whose counts match the number of secrets', async (t) => {
  // Every section runs, each for a few seconds: on a loaded 2-core machine that is a minute.
  t.timeout(170_000);
  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'report.json');
  const sizes = [1, 2];
  const { code, output } = await runBench([
    '--quick',
    '--runs',
    '1',
    '--sizes',
    sizes.join(','),
    '--delay-ms',
    '5',
    // Servers on their own core answering from a recording, and sharing cores (--quick alone
    // measures them pinned, computing every answer).
    '--isolation',
    'replayed,shared',
    '--profile',
    // This same Node again: measured once (one entry per version).
    '--nodes',
    process.execPath,
    '--redact-mib',
    '4',
    '--out',
    out,
  ]);
  t.is(code, 0, output);
  t.regex(output, /Targets/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;

  t.true(report.machine.cores >= 1);
  t.is(report.machine.node, process.version);

  const startup = report.startup!;
  for (const sample of [
    startup.nodeBaseline,
    startup.floor,
    startup.localEmpty,
    startup.localOneSecret,
  ]) {
    t.true(positive(sample.medianMs));
    t.true(sample.medianMs < 30_000);
    t.is(sample.samplesMs.length, 1);
  }
  t.true(positive(startup.ratioOneSecret));
  t.deepEqual(
    startup.runtimes.map((runtime) => runtime.version),
    [process.version],
  );
  t.is(startup.runtimes[0]!.localOneSecret.medianMs, startup.localOneSecret.medianMs);
  t.is(startup.runtimes[0]!.localOneSecretNoCache.samplesMs.length, 1);
  // The single executable is measured when it was built (`npm run build:sea`).
  const single = startup.singleBinary;
  t.is(single !== undefined, existsSync(join(REPO_ROOT, 'dist', 'sea', 'credexec-linux-x64')));
  if (single !== undefined) {
    t.true(single.sizeBytes > 2 ** 20);
    t.is(single.localOneSecret.samplesMs.length, 1);
  }

  const resolution = report.resolution!;
  t.deepEqual(resolution.sizes, sizes);
  t.is(resolution.delayMs, 5);
  // Pinning needs two CPUs and taskset; without them the bench says so and shares the cores.
  const pinning = planPinning();
  t.deepEqual(
    resolution.modes.map((mode) => mode.isolation),
    pinning.ok ? ['replayed', 'shared'] : ['shared'],
  );
  t.is(resolution.pinnedUnavailable === undefined, pinning.ok);
  for (const mode of resolution.modes) {
    if (mode.isolation !== 'shared' && pinning.ok) {
      t.deepEqual(mode.placement, {
        serversProcess: 'own',
        serversCpus: String(pinning.serversCpu),
        credexecCpus: String(pinning.credexecCpu),
      });
    } else {
      t.is(mode.placement.serversProcess, 'bench');
      t.is(mode.placement.serversCpus, mode.placement.credexecCpus);
    }
    t.deepEqual(
      mode.cpuPerSecret.map((line) => `${line.path} ${line.fromN}→${line.toN}`),
      ['direct 1→2', 'delayed 1→2', 'tls 1→2'],
    );
    for (const line of mode.cpuPerSecret) t.true(Number.isFinite(line.ms));
    // Replaying proxies answer what they saw before: secret 0's Query and Decrypt, first asked
    // at N=1, are replayed at N=2 (and counted all the same); nothing is replayed otherwise.
    for (const row of mode.rows) {
      const replayed = mode.isolation === 'replayed' && row.path !== 'direct';
      t.is(
        row.credexec.counts.replayed,
        replayed ? (row.n === 1 ? 0 : 2) : undefined,
        `${mode.isolation} ${row.n}/${row.path}`,
      );
    }
  }
  const rows = resolution.modes.flatMap((mode) => mode.rows);
  t.deepEqual(
    resolution.modes[0]!.rows.map((row) => `${row.n}/${row.path}`),
    ['1/direct', '2/direct', '1/delayed', '2/delayed', '1/tls', '2/tls'],
  );
  for (const row of rows) {
    const { credexec, baseline } = row;
    t.is(credexec.counts.query, row.n, `Queries for ${row.n}/${row.path}`);
    t.is(credexec.counts.decrypt, row.n, `Decrypts for ${row.n}/${row.path}`);
    t.true(credexec.counts.peakKms >= 1 && credexec.counts.peakKms <= row.n);
    t.true(positive(credexec.time.medianMs));
    // credexec loads code and spawns a process: it cannot use no CPU at all.
    t.true(positive(credexec.cpuMs!), `credexec CPU for ${row.n}/${row.path}`);
    t.is(credexec.cpuSamplesMs!.length, 1);
    t.true(credexec.serverCpuMs! >= 0);
    if (row.path === 'direct') {
      t.is(credexec.counts.connectionsKms, undefined);
    } else {
      // Every connection to the delay proxy is counted; keep-alive means no more than requests.
      t.true(credexec.counts.connectionsKms! >= 1 && credexec.counts.connectionsKms! <= row.n);
      t.true(credexec.counts.connectionsDynamodb! >= 1);
    }
    if (row.path === 'tls') {
      t.is(baseline, undefined, 'no in-process baseline over TLS');
      continue;
    }
    t.is(baseline!.counts.query, row.n);
    t.is(baseline!.counts.decrypt, row.n);
    t.is(baseline!.counts.peakDynamodb, 1);
    t.is(baseline!.counts.peakKms, 1);
    t.true(positive(baseline!.time.medianMs));
    t.true(positive(row.ratioToBaseline!));
    if (row.path === 'delayed') {
      // Every request waits for the delay, so the sequential baseline cannot be faster than that.
      t.true(baseline!.time.medianMs >= 2 * row.n * 5);
    }
  }

  // --profile: one profiled run each of the smallest and largest N, categories adding up.
  t.deepEqual(
    resolution.profiles!.map((profile) => `${profile.n}/${profile.path}/${profile.isolation}`),
    ['1/delayed', '2/delayed'].map((run) => `${run}/${resolution.modes[0]!.isolation}`),
  );
  for (const profile of resolution.profiles!) {
    t.true(positive(profile.totalMs));
    const sum = profile.shares.reduce((total, share) => total + share.ms, 0);
    t.true(
      Math.abs(sum - profile.totalMs) < 0.01 * profile.totalMs,
      `${sum} vs ${profile.totalMs}`,
    );
    t.true(profile.shares.some((share) => share.category.startsWith('loading')));
  }

  const memory = report.memory!;
  for (const sample of [memory.idleNode, memory.localOneSecret, memory.aws]) {
    t.true(sample.vmRssKb > 1024 && sample.vmRssKb < 4 * 1024 * 1024);
    t.true(sample.vmHwmKb >= sample.vmRssKb);
  }
  t.is(memory.aws.n, 2);
  t.is(memory.isolation, resolution.modes[0]!.isolation);

  const redact = report.redact!;
  t.is(redact.sizeBytes, 4 * 2 ** 20);
  t.is(redact.secrets, 100);
  t.true(redact.patterns > redact.secrets);
  t.true(redact.corpus.matchesPerMiB > 0);
  for (const run of [
    redact.core,
    redact.stream.passThrough,
    redact.stream.redact,
    redact.pipe.cat,
    redact.pipe.passThrough,
    redact.pipe.redact,
  ]) {
    t.is(run.bytes, 4 * 2 ** 20);
    t.true(positive(run.wallMs) && positive(run.mbPerSecWall));
  }
  // The redacting process wrote back exactly what redacting the input in one piece gives.
  t.true(redact.pipe.outputMatches);
  t.true(redact.pipe.redact.maxRssKb! > 1024);
  for (const sample of Object.values(redact.latency)) {
    t.true(positive(sample.medianUs) && sample.p99Us >= sample.medianUs);
  }

  // A fleet against a throttling store: with a warm fallback every launch starts.
  const fallback = report.fallback!;
  t.deepEqual(
    fallback.waves.map((wave) => wave.wave),
    ['unthrottled', 'throttled', 'throttled, warm fallback'],
  );
  for (const wave of fallback.waves) {
    t.is(wave.started + wave.refused, fallback.launches, wave.wave);
    t.true(positive(wave.wallMs) && positive(wave.launchMs.medianMs), wave.wave);
  }
  const [unthrottled, throttled, warm] = fallback.waves;
  t.is(unthrottled!.started, fallback.launches);
  t.is(unthrottled!.dynamodbRequests, fallback.launches * fallback.secrets);
  t.is(unthrottled!.throttledRequests, 0);
  t.is(unthrottled!.fromFallback, 0);
  t.true(throttled!.throttledRequests > 0);
  t.is(throttled!.fromFallback, 0);
  t.true(warm!.throttledRequests > 0);
  t.is(warm!.started, fallback.launches);
  t.true(warm!.fromFallback > 0);

  // Exec mode is measured on the Nodes given that have process.execve: here, this one or none.
  const exec = report.exec!;
  if (typeof (process as { execve?: unknown }).execve === 'function') {
    t.deepEqual(
      exec.rows.map((row) => row.version),
      [process.version],
    );
    for (const row of exec.rows) {
      t.true(row.spawned.credexecKb > 1024 && row.spawned.treeKb > row.spawned.credexecKb);
      // With --exec the tree is the child alone: credexec costs nothing.
      t.is(row.replaced.credexecKb, 0);
      t.true(row.replaced.treeKb > 0 && row.replaced.treeKb < row.spawned.treeKb);
      t.is(row.savedKb, row.spawned.treeKb - row.replaced.treeKb);
    }
  } else {
    t.deepEqual(exec.rows, []);
    t.regex(exec.skipped!, /^no Node given has process\.execve/);
  }

  // An idle poll reads each watched entry's version once and never decrypts; a rotation is one
  // restart, resolving every entry.
  const watch = report.watch!;
  t.is(watch.entries, 10);
  // Polls are counted at the server between two instants, so under load one may be cut at
  // either end: about 10 requests a poll, never a Decrypt.
  t.deepEqual(
    watch.idle.map((row) => row.decrypts),
    [0, 0, 0, 0],
  );
  for (const row of watch.idle.slice(0, 3))
    t.true(
      row.requestsPerPoll >= 5 && row.requestsPerPoll <= 15,
      `${row.label}: ${row.requestsPerPoll}`,
    );
  t.is(watch.idle[3]!.requestsPerPoll, 1);
  for (const row of watch.idle) t.true(row.polls >= 2 && row.vmRssKb > 1024, row.label);
  t.is(watch.rotation.putToRunning.samplesMs.length, 2);
  t.is(watch.rotation.requests.decrypt, 10);

  t.true(report.targets.length >= 7);
  // One CPU-per-secret target (in ms) for each placement measured.
  t.deepEqual(
    report.targets.filter((target) => target.unit === 'ms').map((target) => target.name),
    resolution.modes.map(
      (mode) =>
        `aws +5 ms, ${mode.isolation === 'replayed' ? 'servers pinned, answers replayed' : 'servers sharing cores'}: credexec CPU per secret ≤ 1.0 ms (N=1→2)`,
    ),
  );
  for (const target of report.targets) t.is(target.pass, target.value <= target.limit);
});
