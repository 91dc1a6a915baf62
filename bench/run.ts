/**
 * credexec benchmark entry: `node --import tsx bench/run.ts [--quick] [--runs N] [--delay-ms D]
 * [--sizes 1,10,50,100] [--isolation replayed,pinned,shared] [--only startup,resolution,memory,redact,fallback,
 * exec,watch] [--fleet N] [--nodes PATH,…] [--profile] [--redact-mib M] [--out FILE]`.
 * Prints tables and the targets, and writes everything as JSON (default
 * bench/results/bench-<timestamp>.json). Needs a built dist/ (`npm run bench` builds first).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, REPO_ROOT, machine, ms, ratio, round, table, type Machine } from './lib.js';
import { benchMemory, type MemoryResult } from './memory.js';
import { benchRedact, type RedactResult } from './redact.js';
import { benchExec, type ExecResult } from './exec.js';
import { benchFallback, type FallbackResult } from './fallback.js';
import { benchWatch, type WatchResult } from './watch.js';
import {
  benchResolution,
  type ResolutionMode,
  type ResolutionResult,
  type ResolutionRow,
} from './resolution.js';
import { availableIsolations, ISOLATIONS, type Isolation } from './aws-world.js';
import { nodeRuntimes, singleBinary } from './runtimes.js';
import { benchStartup, type RuntimeStartup, type StartupResult } from './startup.js';

type Section = 'startup' | 'resolution' | 'memory' | 'redact' | 'fallback' | 'exec' | 'watch';
const SECTIONS: readonly Section[] = [
  'startup',
  'resolution',
  'memory',
  'redact',
  'fallback',
  'exec',
  'watch',
];

export interface Target {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  readonly pass: boolean;
  /** How value and limit read: a ratio (the default) or milliseconds. */
  readonly unit?: 'ms';
}

export interface BenchReport {
  readonly machine: Machine;
  readonly options: {
    readonly quick: boolean;
    readonly sections: readonly Section[];
    readonly startupRuns: number;
    readonly resolutionRuns: number;
    readonly memoryRuns: number;
    readonly execRuns: number;
    readonly sizes: readonly number[];
    readonly delayMs: number;
    readonly isolations: readonly Isolation[];
    readonly nodes: readonly string[];
    readonly redactBytes: number;
  };
  readonly startup?: StartupResult;
  readonly resolution?: ResolutionResult;
  readonly memory?: MemoryResult;
  readonly redact?: RedactResult;
  readonly fallback?: FallbackResult;
  readonly exec?: ExecResult;
  readonly watch?: WatchResult;
  readonly targets: readonly Target[];
  readonly durationMs: number;
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${flag}: not a whole number: ${text}`);
  return value;
}

function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'delay-ms': { type: 'string' },
      sizes: { type: 'string' },
      isolation: { type: 'string' },
      only: { type: 'string' },
      fleet: { type: 'string' },
      nodes: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'redact-mib': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const runs = values.runs === undefined ? undefined : positiveInteger(values.runs, '--runs');
  if (runs === 0) throw new Error('--runs must be at least 1');
  const sizes = (values.sizes ?? (quick ? '1,3' : '1,10,50,100'))
    .split(',')
    .map((text) => positiveInteger(text.trim(), '--sizes'));
  if (sizes.some((n) => n < 1)) throw new Error('--sizes: every size must be at least 1');
  // Servers on a core of their own, answering from a recording (replayed) or computing every
  // answer (pinned), and sharing cores with credexec: all three in a full run.
  const isolations = (values.isolation ?? (quick ? 'pinned' : ISOLATIONS.join(',')))
    .split(',')
    .map((name) => {
      if (!ISOLATIONS.includes(name as Isolation))
        throw new Error(`--isolation: unknown isolation ${name}`);
      return name as Isolation;
    });
  const sections = (values.only ?? SECTIONS.join(',')).split(',').map((name) => {
    if (!SECTIONS.includes(name as Section)) throw new Error(`--only: unknown section ${name}`);
    return name as Section;
  });
  return {
    help: values.help ?? false,
    quick,
    sections,
    sizes,
    isolations: [...new Set(isolations)],
    delayMs:
      values['delay-ms'] === undefined
        ? quick
          ? 5
          : 20
        : positiveInteger(values['delay-ms'], '--delay-ms'),
    startupRuns: runs ?? (quick ? 3 : 20),
    startupWarmup: quick ? 0 : 2,
    resolutionRuns: runs ?? (quick ? 1 : 5),
    resolutionWarmup: quick ? 0 : 1,
    memoryRuns: runs ?? (quick ? 1 : 5),
    execRuns: runs ?? (quick ? 1 : 5),
    execSettleMs: quick ? 100 : 500,
    holdMs: 300,
    // Other Nodes to measure start-up on: --nodes, else CREDEXEC_BENCH_NODES (bench/README.md).
    nodes: values.nodes ?? process.env.CREDEXEC_BENCH_NODES,
    // The fleet of the fallback section: concurrent launches, secrets each, the store's bucket.
    fleet: {
      launches:
        values.fleet === undefined ? (quick ? 6 : 50) : positiveInteger(values.fleet, '--fleet'),
      secrets: quick ? 2 : 5,
    },
    profile: values.profile ?? false,
    // 1 GiB of output for the full run (a few seconds per measurement at the 300 MB/s goal).
    redactBytes:
      (values['redact-mib'] === undefined
        ? quick
          ? 16
          : 1024
        : Math.max(1, positiveInteger(values['redact-mib'], '--redact-mib'))) *
      2 ** 20,
    out:
      values.out === undefined
        ? join(
            REPO_ROOT,
            'bench',
            'results',
            `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
          )
        : resolve(values.out),
  };
}

const mark = (pass: boolean) => (pass ? '✓ pass' : '✗ FAIL');

function target(name: string, value: number, limit: number, unit?: 'ms'): Target {
  return {
    name,
    value: round(value, 3),
    limit,
    pass: value <= limit,
    ...(unit === undefined ? {} : { unit }),
  };
}

function printStartup(result: StartupResult): void {
  console.log(
    `\n## Start-up: \`credexec -- true\` (local backend), ${result.runs} interleaved runs, medians\n`,
  );
  const row = (
    label: string,
    sample: StartupResult['nodeBaseline'],
    factor: number | undefined,
  ) => [
    label,
    ms(sample.medianMs),
    ms(sample.minMs),
    ms(sample.maxMs),
    factor === undefined ? '-' : ratio(factor),
  ];
  console.log(
    table(
      ['command', 'median', 'min', 'max', 'vs node -e 0'],
      [
        row('node -e 0', result.nodeBaseline, 1),
        row('floor: node bench/floor.cjs true', result.floor, result.ratioFloor),
        row('credexec -m empty.env -- true', result.localEmpty, result.ratioEmpty),
        row('credexec -m one-secret.env -- true', result.localOneSecret, result.ratioOneSecret),
        row(
          'the same without the code cache',
          result.localOneSecretNoCache,
          result.ratioOneSecretNoCache,
        ),
      ],
    ),
  );
  const single = result.singleBinary;
  console.log(
    `\n### Every Node${single === undefined ? '' : ' and the single executable'}: medians, and the ratio to \`node -e 0\` of the same Node\n`,
  );
  const cell = (sample: StartupResult['nodeBaseline'], factor?: number) =>
    factor === undefined ? ms(sample.medianMs) : `${ms(sample.medianMs)} ${ratio(factor)}`;
  const rows = result.runtimes.map((runtime: RuntimeStartup) => [
    `node ${runtime.version}`,
    ms(runtime.nodeBaseline.medianMs),
    cell(runtime.floor, runtime.ratioFloor),
    cell(runtime.localEmpty, runtime.ratioEmpty),
    cell(runtime.localOneSecret, runtime.ratioOneSecret),
    cell(runtime.localOneSecretNoCache, runtime.ratioOneSecretNoCache),
  ]);
  if (single !== undefined) {
    rows.push([
      `single executable (${single.nodeVersion}, ${(single.sizeBytes / 2 ** 20).toFixed(1)} MiB)`,
      single.nodeBaseline === undefined ? '-' : ms(single.nodeBaseline.medianMs),
      '-',
      cell(single.localEmpty, single.ratioEmpty),
      cell(single.localOneSecret, single.ratioOneSecret),
      '-',
    ]);
  }
  console.log(
    table(
      ['runtime', 'node -e 0', 'floor', 'credexec, empty', 'credexec, 1 secret', 'no code cache'],
      rows,
    ),
  );
  if (single !== undefined && single.nodeBaseline === undefined) {
    console.log(
      `(no ${single.nodeVersion} among the Nodes measured, so no ratio for the single executable: pass its Node with --nodes)`,
    );
  }
}

const pathLabel = (path: ResolutionRow['path'], delayMs: number) =>
  path === 'direct' ? 'direct' : `+${delayMs} ms${path === 'tls' ? ' TLS' : ''}`;

function placementOf(mode: ResolutionMode): string {
  const { placement } = mode;
  switch (mode.isolation) {
    case 'replayed':
      return `servers pinned, answers replayed: test servers and proxies in their own process on CPU ${placement.serversCpus}, the proxies answering requests seen before from the servers' recorded answers (after the delay); credexec, the baseline and the bench on CPU ${placement.credexecCpus}`;
    case 'pinned':
      return `servers pinned: test servers and proxies in their own process on CPU ${placement.serversCpus}; credexec, the baseline and the bench on CPU ${placement.credexecCpus}`;
    case 'shared':
      return `shared cores: test servers and proxies in the bench's own process, credexec beside them, all on CPUs ${placement.credexecCpus}`;
  }
}

function printResolutionMode(mode: ResolutionMode): void {
  console.log(`\n### ${placementOf(mode)}\n`);
  console.log(
    table(
      [
        'N',
        'path',
        'credexec',
        'vs N=min',
        'credexec CPU',
        'servers CPU',
        'Query',
        'BatchGet',
        'Decrypt',
        'DDB/KMS total',
        'peak DDB/KMS',
        'connections',
        'baseline',
        'baseline reqs',
        'vs baseline',
      ],
      mode.rows.map((row) => [
        String(row.n),
        pathLabel(row.path, row.delayMs),
        ms(row.credexec.time.medianMs),
        ratio(row.ratioToSmallest),
        row.credexec.cpuMs === undefined ? '-' : ms(row.credexec.cpuMs),
        row.credexec.serverCpuMs === undefined ? '-' : ms(row.credexec.serverCpuMs),
        String(row.credexec.counts.query),
        String(row.credexec.counts.batchGetItem),
        String(row.credexec.counts.decrypt),
        `${row.credexec.counts.dynamodbTotal}/${row.credexec.counts.kmsTotal}${row.credexec.countsStable ? '' : '*'}`,
        `${row.credexec.counts.peakDynamodb}/${row.credexec.counts.peakKms}`,
        row.credexec.counts.connectionsDynamodb === undefined
          ? '-'
          : `${row.credexec.counts.connectionsDynamodb}/${row.credexec.counts.connectionsKms}`,
        row.baseline === undefined ? '-' : ms(row.baseline.time.medianMs),
        row.baseline === undefined
          ? '-'
          : `${row.baseline.counts.dynamodbTotal}/${row.baseline.counts.kmsTotal} (peak ${row.baseline.counts.peakDynamodb}/${row.baseline.counts.peakKms})`,
        row.ratioToBaseline === undefined ? '-' : ratio(row.ratioToBaseline),
      ]),
    ),
  );
  if (mode.rows.some((row) => !row.credexec.countsStable)) {
    console.log('* request counts differed between runs (first run shown)');
  }
  const replayed = mode.rows.filter((row) => row.credexec.counts.replayed !== undefined);
  if (replayed.length > 0) {
    const shown = replayed.map(
      (row) =>
        `${row.n} ${pathLabel(row.path, row.delayMs)}: ${row.credexec.counts.replayed}/${row.credexec.counts.dynamodbTotal + row.credexec.counts.kmsTotal}`,
    );
    console.log(`answers replayed by the proxies (first measured run): ${shown.join(', ')}`);
  }
  for (const line of mode.cpuPerSecret) {
    const delayMs = mode.rows.find((row) => row.path === line.path)?.delayMs ?? 0;
    console.log(
      `credexec CPU per secret, ${mode.isolation}, ${pathLabel(line.path, delayMs)}: ${line.ms.toFixed(2)} ms (CPU at N=${line.toN} − at N=${line.fromN}, over ${line.toN - line.fromN})`,
    );
  }
}

function printResolution(result: ResolutionResult): void {
  console.log(
    `\n## Resolution: \`credexec -- true\`, aws backend (dynalite + test KMS), N latest secrets, ${result.runs} runs, medians\n`,
  );
  console.log(`baseline: ${result.baselineMethod}`);
  console.log(
    'CPU: user + system time of the credexec process (mean over the runs; each run in 10 ms ticks) and of the test servers meanwhile (replayed and pinned: their process alone; shared: the whole bench process); a run whose CPU is close to its wall time is compute-bound, not waiting on round trips',
  );
  if (result.pinnedUnavailable !== undefined) console.log(`note: ${result.pinnedUnavailable}`);
  for (const mode of result.modes) printResolutionMode(mode);
  for (const profile of result.profiles ?? []) {
    console.log(
      `\n### Where credexec's time goes: N=${profile.n}, ${profile.path}, servers ${profile.isolation}, one run under --cpu-prof (${ms(profile.totalMs)} profiled; ${profile.file})\n`,
    );
    console.log(
      table(
        ['category', 'time', 'share'],
        profile.shares.map((share) => [
          share.category,
          ms(share.ms),
          `${(share.share * 100).toFixed(1)}%`,
        ]),
      ),
    );
  }
}

function printMemory(result: MemoryResult): void {
  console.log(
    `\n## Resident memory of credexec while its child runs (${result.runs} runs, medians; child holds ${result.holdMs} ms; aws servers ${result.isolation !== 'shared' ? `pinned to CPU ${result.placement.serversCpus}, credexec on CPU ${result.placement.credexecCpus}` : 'in the bench process, sharing cores'})\n`,
  );
  const kb = (value: number) => `${(value / 1024).toFixed(1)} MiB`;
  console.log(
    table(
      ['process', 'VmRSS', 'VmHWM (peak)', 'RSS vs idle node', 'HWM vs idle node'],
      [
        [
          'idle node (setTimeout)',
          kb(result.idleNode.vmRssKb),
          kb(result.idleNode.vmHwmKb),
          ratio(1),
          ratio(1),
        ],
        [
          'credexec local, 1 secret',
          kb(result.localOneSecret.vmRssKb),
          kb(result.localOneSecret.vmHwmKb),
          ratio(result.ratioLocalRss),
          ratio(result.ratioLocalHwm),
        ],
        [
          `credexec aws, ${result.aws.n} secrets`,
          kb(result.aws.vmRssKb),
          kb(result.aws.vmHwmKb),
          ratio(result.ratioAwsRss),
          ratio(result.ratioAwsHwm),
        ],
      ],
    ),
  );
}

function printRedact(result: RedactResult): void {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const mbps = (value: number) => `${value.toFixed(0)} MB/s`;
  const us = (value: number) => `${value.toFixed(1)} µs`;
  console.log(
    `\n## Redaction: ${result.secrets} secrets → ${result.patterns} patterns (${result.automatonStates} automaton states, compiled in ${ms(result.compileMs)}), ${mib(result.sizeBytes)} of mixed output per run\n`,
  );
  console.log(
    `output: ${(result.corpus.textShare * 100).toFixed(0)}% log lines, ${(result.corpus.jsonShare * 100).toFixed(0)}% JSON records, ${(result.corpus.binaryShare * 100).toFixed(0)}% binary, ${result.corpus.matchesPerMiB} values per MiB; scanning: ${result.strategy}`,
  );
  console.log(
    'MB/s per CPU second is what one core sustains; for the pipe rows it is the filtering process alone, without its start-up (node, loading, compiling the secrets: see below); wall MB/s includes the bench feeding and draining the pipe\n',
  );
  // Under 20 ms of CPU (cat on a small run) the kernel's 10 ms ticks say too little.
  const row = (label: string, run: RedactResult['core'], versus: string) => [
    label,
    run.cpuMs < 20 ? '-' : mbps(run.mbPerSecCpu),
    mbps(run.mbPerSecWall),
    ms(run.cpuMs),
    versus,
  ];
  const pipeRss = (run: RedactResult['pipe']['cat']) =>
    run.maxRssKb === undefined ? '-' : `${(run.maxRssKb / 1024).toFixed(1)} MiB`;
  console.log(
    table(
      ['path', 'MB/s per CPU s', 'MB/s wall', 'CPU', 'vs baseline', 'peak RSS'],
      [
        [...row('Redactor#write (core)', result.core, '-'), '-'],
        [...row('in process: copying Transform', result.stream.passThrough, ratio(1)), '-'],
        [...row('in process: RedactStream', result.stream.redact, ratio(result.stream.ratio)), '-'],
        [...row('pipe: cat', result.pipe.cat, ratio(1)), pipeRss(result.pipe.cat)],
        [
          ...row(
            'pipe: node pass-through',
            result.pipe.passThrough,
            ratio(result.pipe.passThrough.mbPerSecWall / result.pipe.cat.mbPerSecWall),
          ),
          pipeRss(result.pipe.passThrough),
        ],
        [
          ...row('pipe: node RedactStream', result.pipe.redact, ratio(result.pipe.ratioToCat)),
          pipeRss(result.pipe.redact),
        ],
      ],
    ),
  );
  console.log(
    `\npipe rows: wall MB/s ratio to \`cat\`; start-up CPU of node pass-through ${ms(result.pipe.passThrough.startupCpuMs ?? 0)}, of node RedactStream ${ms(result.pipe.redact.startupCpuMs ?? 0)}; the redacting process's output ${result.pipe.outputMatches ? 'was exactly the expected bytes' : 'DIFFERED from the expected bytes'}`,
  );
  const lat = result.latency;
  console.log('\n### Latency per line (written one at a time, waiting for it to come out)\n');
  console.log(
    table(
      ['path', 'median', 'p99'],
      [
        [
          'in process: PassThrough',
          us(lat.adapterPassThrough.medianUs),
          us(lat.adapterPassThrough.p99Us),
        ],
        ['in process: RedactStream', us(lat.adapterRedact.medianUs), us(lat.adapterRedact.p99Us)],
        ['pipe round trip: cat', us(lat.pipeCat.medianUs), us(lat.pipeCat.p99Us)],
        [
          'pipe round trip: node pass-through',
          us(lat.pipePassThrough.medianUs),
          us(lat.pipePassThrough.p99Us),
        ],
        [
          'pipe round trip: node RedactStream',
          us(lat.pipeRedact.medianUs),
          us(lat.pipeRedact.p99Us),
        ],
      ],
    ),
  );
}

function printFallback(result: FallbackResult): void {
  console.log(
    `\n## A fleet starting at once against a throttling store: ${result.launches} concurrent \`credexec -- true\`, ${result.secrets} latest secrets each (aws backend; DynamoDB admits ${result.bucket.burst} requests at once, then ${result.bucket.perSecond}/s; default retries)\n`,
  );
  console.log(
    table(
      [
        'wave',
        'started',
        'refused (125)',
        'from the fallback',
        'wall',
        'launch median',
        'launch max',
        'DynamoDB requests',
        'throttled',
      ],
      result.waves.map((wave) => [
        wave.wave,
        `${wave.started}/${wave.launches}`,
        String(wave.refused),
        String(wave.fromFallback),
        ms(wave.wallMs),
        ms(wave.launchMs.medianMs),
        ms(wave.launchMs.maxMs),
        String(wave.dynamodbRequests),
        String(wave.throttledRequests),
      ]),
    ),
  );
}

function printExec(result: ExecResult): void {
  console.log(
    `\n## Exec mode: resident memory of the service's process tree, \`credexec -- sleep\` against \`credexec --exec -- sleep\` (local backend, 1 secret; ${result.runs} runs, medians, read ${result.settleMs} ms after the child started)\n`,
  );
  if (result.skipped !== undefined) {
    console.log(`skipped: ${result.skipped}`);
    return;
  }
  const kb = (value: number) => `${(value / 1024).toFixed(1)} MiB`;
  console.log(
    table(
      ['runtime', 'tree, spawned', 'of which credexec', 'tree, --exec', 'saved'],
      result.rows.map((row) => [
        `node ${row.version}`,
        kb(row.spawned.treeKb),
        kb(row.spawned.credexecKb),
        kb(row.replaced.treeKb),
        kb(row.savedKb),
      ]),
    ),
  );
}

function printWatch(result: WatchResult): void {
  console.log(
    `\n## Watching ${result.entries} entries (\`credexec --watch\`): what an idle poll costs (aws: HTTPS proxy +${result.delayMs} ms to dynalite; local: the store file)\n`,
  );
  const kb = (value: number) => `${(value / 1024).toFixed(1)} MiB`;
  console.log(
    table(
      ['', 'polls', 'requests/poll', 'Decrypts', 'TLS handshakes/poll', 'credexec CPU/poll', 'RSS'],
      result.idle.map((row) => [
        row.label,
        String(row.polls),
        String(row.requestsPerPoll),
        String(row.decrypts),
        row.connectionsPerPoll === undefined ? '-' : String(row.connectionsPerPoll),
        ms(row.cpuMsPerPoll),
        kb(row.vmRssKb),
      ]),
    ),
  );
  console.log(`\nidle \`node\`: ${kb(result.idleNodeRssKb)} RSS`);
  const { rotation } = result;
  console.log(
    `\n### A put reaching the command (${rotation.rotations} rotations, polls ${rotation.intervalMs / 1000} s apart, medians)\n`,
  );
  console.log(
    table(
      ['put → new command running', 'restart (line → running)', 'Query', 'BatchGetItem', 'Decrypt'],
      [
        [
          ms(rotation.putToRunning.medianMs),
          ms(rotation.restart.medianMs),
          String(rotation.requests.query),
          String(rotation.requests.batchGetItem),
          String(rotation.requests.decrypt),
        ],
      ],
    ),
  );
}

function targetsOf(report: Omit<BenchReport, 'targets' | 'durationMs'>): Target[] {
  const targets: Target[] = [];
  if (report.startup !== undefined) {
    targets.push(
      target(
        'local `credexec -- true` (1 secret) ≤ 1.5× `node -e 0`',
        report.startup.ratioOneSecret,
        1.5,
      ),
    );
    targets.push(
      target(
        'local `credexec -- true` (empty manifest) ≤ 1.5× `node -e 0`',
        report.startup.ratioEmpty,
        1.5,
      ),
    );
    for (const runtime of report.startup.runtimes.slice(1)) {
      targets.push(
        target(
          `node ${runtime.version}: \`credexec -- true\` (1 secret) ≤ 1.5× its \`node -e 0\``,
          runtime.ratioOneSecret,
          1.5,
        ),
      );
    }
    const single = report.startup.singleBinary;
    if (single?.ratioOneSecret !== undefined) {
      targets.push(
        target(
          `single executable: \`credexec -- true\` (1 secret) ≤ 1.2× \`node -e 0\` (${single.nodeVersion})`,
          single.ratioOneSecret,
          1.2,
        ),
      );
    }
  }
  if (report.resolution !== undefined) {
    const { delayMs } = report.resolution;
    for (const mode of report.resolution.modes) {
      const where = {
        replayed: 'servers pinned, answers replayed',
        pinned: 'servers pinned',
        shared: 'servers sharing cores',
      }[mode.isolation];
      const delayed = mode.rows.filter((row) => row.path === 'delayed');
      const largest = delayed.at(-1);
      const smallest = delayed[0];
      if (largest !== undefined && smallest !== undefined && largest !== smallest) {
        targets.push(
          target(
            `aws +${delayMs} ms, ${where}: ${largest.n} secrets ≤ 1.5× ${smallest.n} secret(s)`,
            largest.ratioToSmallest,
            1.5,
          ),
        );
      }
      if (largest?.ratioToBaseline !== undefined) {
        targets.push(
          target(
            `aws +${delayMs} ms, ${where}: ${largest.n} secrets ≤ 0.10× sequential baseline`,
            largest.ratioToBaseline,
            0.1,
          ),
        );
      }
      const cpu = mode.cpuPerSecret.find((line) => line.path === 'delayed');
      if (cpu !== undefined) {
        targets.push(
          target(
            `aws +${delayMs} ms, ${where}: credexec CPU per secret ≤ 1.0 ms (N=${cpu.fromN}→${cpu.toN})`,
            cpu.ms,
            1,
            'ms',
          ),
        );
      }
    }
  }
  if (report.memory !== undefined) {
    targets.push(
      target('resident RSS, local (VmRSS) ≤ 1.5× idle node', report.memory.ratioLocalRss, 1.5),
    );
    targets.push(
      target(
        `resident RSS, aws ${report.memory.aws.n} secrets (VmRSS) ≤ 1.5× idle node`,
        report.memory.ratioAwsRss,
        1.5,
      ),
    );
  }
  if (report.redact !== undefined) {
    targets.push(
      target(
        `redaction core, ${report.redact.secrets} secrets: share of one core to redact 300 MB/s`,
        300 / report.redact.core.mbPerSecCpu,
        1,
      ),
    );
    targets.push(
      target(
        `RedactStream, ${report.redact.secrets} secrets: share of one core to redact 300 MB/s`,
        300 / report.redact.stream.redact.mbPerSecCpu,
        1,
      ),
    );
  }
  if (report.watch !== undefined) {
    const [keepAlive, , warm] = report.watch.idle;
    for (const row of [keepAlive, warm]) {
      if (row === undefined) continue;
      targets.push(
        target(
          `--watch, ${report.watch.entries} entries: credexec CPU per idle poll / 20 ms (${row.label})`,
          row.cpuMsPerPoll / 20,
          1,
        ),
      );
    }
    targets.push(
      target(
        `--watch, ${report.watch.entries} entries: RSS while watching ≤ 1.6× idle node`,
        report.watch.ratioRss,
        1.6,
      ),
    );
  }
  return targets;
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(
      'usage: node --import tsx bench/run.ts [--quick] [--runs N] [--delay-ms D] [--sizes 1,10,50,100] [--isolation replayed,pinned,shared] [--only startup,resolution,memory,redact,fallback,exec,watch] [--fleet N] [--nodes PATH,…] [--profile] [--redact-mib M] [--out FILE]',
    );
    return 0;
  }
  if (!existsSync(join(REPO_ROOT, 'dist'))) {
    console.error(`bench: no dist/ — run \`npm run build\` first (${BIN} loads it)`);
    return 1;
  }
  const started = Date.now();
  const info = machine();
  console.log(`# credexec bench — ${info.date}`);
  console.log(
    `machine: ${info.cpu}, ${info.cores} cores, ${info.memoryMb} MiB; node ${info.node}; ${info.platform}`,
  );

  const has = (section: Section) => options.sections.includes(section);
  let startup: StartupResult | undefined;
  let resolution: ResolutionResult | undefined;
  let memory: MemoryResult | undefined;
  let redact: RedactResult | undefined;
  if (has('startup')) {
    const single = singleBinary();
    startup = await benchStartup({
      runs: options.startupRuns,
      warmup: options.startupWarmup,
      runtimes: nodeRuntimes(options.nodes),
      ...(single === undefined ? {} : { singleBinary: single }),
    });
    printStartup(startup);
  }
  if (has('resolution')) {
    resolution = await benchResolution({
      runs: options.resolutionRuns,
      warmup: options.resolutionWarmup,
      sizes: options.sizes,
      delayMs: options.delayMs,
      isolations: options.isolations,
      ...(options.profile ? { profileDir: join(dirname(options.out), 'profiles') } : {}),
    });
    printResolution(resolution);
  }
  if (has('memory')) {
    memory = await benchMemory({
      runs: options.memoryRuns,
      holdMs: options.holdMs,
      awsSecrets: Math.max(...options.sizes),
      isolation: availableIsolations(options.isolations).isolations[0]!,
    });
    printMemory(memory);
  }
  if (has('redact')) {
    redact = await benchRedact({
      sizeBytes: options.redactBytes,
      latencyLines: options.quick ? 100 : 1000,
    });
    printRedact(redact);
  }
  let fallback: FallbackResult | undefined;
  if (has('fallback')) {
    const { launches, secrets } = options.fleet;
    // A bucket that holds a fifth of the wave's Queries and refills a tenth of them a second.
    fallback = await benchFallback({
      launches,
      secrets,
      burst: Math.max(1, Math.round((launches * secrets) / 5)),
      perSecond: Math.max(1, Math.round((launches * secrets) / 10)),
    });
    printFallback(fallback);
  }
  let exec: ExecResult | undefined;
  if (has('exec')) {
    exec = await benchExec({
      runs: options.execRuns,
      settleMs: options.execSettleMs,
      runtimes: startup?.runtimes ?? nodeRuntimes(options.nodes),
    });
    printExec(exec);
  }
  let watch: WatchResult | undefined;
  if (has('watch')) {
    watch = await benchWatch({
      entries: Math.max(...options.sizes, options.quick ? 10 : 100),
      delayMs: options.delayMs,
      polls: options.quick ? 3 : 10,
      rotations: options.quick ? 2 : 5,
      warmPolls: options.quick ? 5 : 30,
    });
    printWatch(watch);
  }
  const partial = {
    machine: info,
    options: {
      quick: options.quick,
      sections: options.sections,
      startupRuns: options.startupRuns,
      resolutionRuns: options.resolutionRuns,
      memoryRuns: options.memoryRuns,
      execRuns: options.execRuns,
      sizes: options.sizes,
      delayMs: options.delayMs,
      isolations: options.isolations,
      nodes:
        startup?.runtimes.map((runtime) => runtime.node) ?? exec?.rows.map((row) => row.node) ?? [],
      redactBytes: options.redactBytes,
    },
    ...(startup === undefined ? {} : { startup }),
    ...(resolution === undefined ? {} : { resolution }),
    ...(memory === undefined ? {} : { memory }),
    ...(redact === undefined ? {} : { redact }),
    ...(fallback === undefined ? {} : { fallback }),
    ...(exec === undefined ? {} : { exec }),
    ...(watch === undefined ? {} : { watch }),
  };
  const targets = targetsOf(partial);
  console.log('\n## Targets (reported, not asserted)\n');
  console.log(
    table(
      ['target', 'measured', 'limit', ''],
      targets.map((entry) => [
        entry.name,
        entry.unit === 'ms' ? `${entry.value.toFixed(2)} ms` : ratio(entry.value),
        entry.unit === 'ms' ? `${entry.limit.toFixed(2)} ms` : ratio(entry.limit),
        mark(entry.pass),
      ]),
    ),
  );
  const report: BenchReport = { ...partial, targets, durationMs: Date.now() - started };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${options.out} (${(report.durationMs / 1000).toFixed(1)} s)`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error: unknown) {
  console.error(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
}
