import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { childrenCpuMs } from './cpu.js';
import { REPO_ROOT, median, round } from './lib.js';

/** The redaction module as built (dist/), typed by its source. */
type RedactModule = typeof import('../src/redact/index.js');
type Redaction = import('../src/redact/index.js').Redaction;

export interface RedactBenchOptions {
  /** Bytes of output to redact in each throughput measurement. */
  readonly sizeBytes: number;
  /** Lines sent one at a time for the latency measurements. */
  readonly latencyLines: number;
  readonly secrets?: number;
}

export interface Throughput {
  readonly bytes: number;
  readonly wallMs: number;
  /** CPU time of the process doing the work (user + system). */
  readonly cpuMs: number;
  readonly mbPerSecWall: number;
  /** Bytes per CPU second: what one core would sustain. */
  readonly mbPerSecCpu: number;
}

/** One process filtering the output: `cat` (CPU from the kernel's ticks) or bench/redact-filter.mjs. */
export interface PipeRun extends Throughput {
  /** Peak resident memory of the filtering process (undefined for `cat`). */
  readonly maxRssKb?: number;
  /** CPU time before it read its first byte (start-up, compiling the secrets); not in `cpuMs`. */
  readonly startupCpuMs?: number;
}

interface FilterUsage {
  readonly cpuMs: number;
  readonly maxRssKb: number;
}

export interface LatencySample {
  readonly medianUs: number;
  readonly p99Us: number;
}

export interface RedactResult {
  readonly sizeBytes: number;
  readonly secrets: number;
  readonly patterns: number;
  readonly automatonStates: number;
  readonly compileMs: number;
  readonly strategy: string;
  readonly corpus: {
    readonly blockBytes: number;
    readonly textShare: number;
    readonly jsonShare: number;
    readonly binaryShare: number;
    /** Markers in the redacted block, per MiB of output. */
    readonly matchesPerMiB: number;
  };
  /** `Redactor#write` over 64 KiB chunks, nothing else. */
  readonly core: Throughput;
  /** Readable → Transform → discarding Writable, in this process. */
  readonly stream: {
    readonly passThrough: Throughput;
    readonly redact: Throughput;
    /** Redacting throughput ÷ copying throughput (CPU-based). */
    readonly ratio: number;
  };
  /** Through a pipe into another process and back, as the launcher will do it. */
  readonly pipe: {
    readonly cat: PipeRun;
    readonly passThrough: PipeRun;
    readonly redact: PipeRun;
    readonly ratioToCat: number;
    readonly ratioToPassThrough: number;
    /** The redacting process produced exactly the expected bytes. */
    readonly outputMatches: boolean;
  };
  /** One line at a time, waiting for it to come out. */
  readonly latency: {
    readonly adapterPassThrough: LatencySample;
    readonly adapterRedact: LatencySample;
    readonly pipeCat: LatencySample;
    readonly pipePassThrough: LatencySample;
    readonly pipeRedact: LatencySample;
  };
}

const CHUNK = 64 * 1024;
const BLOCK = 8 * 1024 * 1024;

/** A deterministic generator (mulberry32), so every run redacts the same bytes. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/+=.:@! ';

/** `count` fake secrets of 20–100 bytes, API keys and passwords alike. */
export function benchSecrets(count: number): { variable: string; value: Buffer }[] {
  const next = random(7);
  return Array.from({ length: count }, (_, index) => {
    const length = 20 + Math.floor(next() * 81);
    let text = '';
    for (let char = 0; char < length; char += 1) {
      text += SECRET_CHARS[Math.floor(next() * SECRET_CHARS.length)];
    }
    return { variable: `BENCH_SECRET_${index}`, value: Buffer.from(text.trim() || 'x'.repeat(20)) };
  });
}

const WORDS =
  'the request was handled by worker pool connection established to upstream retry after timeout user session cache miss hit flushing queue depth latency ok error warning'.split(
    ' ',
  );

/**
 * 8 MiB of mixed output: log lines of words, JSON log records (with base64 and hex ids), and 4 KiB
 * binary blocks, with a secret in some form (raw, base64, URL-encoded, JSON-escaped) every few
 * hundred lines; shares are of bytes.
 */
export function mixedOutput(secrets: readonly { value: Buffer }[]) {
  const next = random(11);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const randomBytes = (length: number) => {
    const bytes = Buffer.allocUnsafe(length);
    for (let index = 0; index < length; index += 1) bytes[index] = Math.floor(next() * 256);
    return bytes;
  };
  const leak = () => {
    const value = pick(secrets).value;
    const text = value.toString('utf8');
    return pick([
      text,
      value.toString('base64'),
      encodeURIComponent(text),
      JSON.stringify(text).slice(1, -1),
    ]);
  };
  const parts: Buffer[] = [];
  let size = 0;
  const shares = { text: 0, json: 0, binary: 0 };
  let line = 0;
  // Byte shares: 45% log lines, 45% JSON records, 10% binary; the kind furthest below its share
  // comes next, so the mix holds at every scale.
  const targets = { text: 0.45, json: 0.45, binary: 0.1 } as const;
  while (size < BLOCK) {
    const kind = (['text', 'json', 'binary'] as const).reduce((best, candidate) =>
      shares[candidate] / targets[candidate] < shares[best] / targets[best] ? candidate : best,
    );
    let part: Buffer;
    line += 1;
    const withLeak = line % 300 === 0;
    if (kind === 'text') {
      let text = `2026-11-30T12:${String(line % 60).padStart(2, '0')}:00.000Z INFO`;
      for (let word = 0; word < 8 + Math.floor(next() * 10); word += 1) text += ` ${pick(WORDS)}`;
      if (withLeak) text += ` token=${leak()}`;
      part = Buffer.from(`${text}\n`);
      shares.text += part.length;
    } else if (kind === 'json') {
      const record: Record<string, unknown> = {
        ts: 1_764_504_000_000 + line,
        level: pick(['info', 'debug', 'warn']),
        msg: `${pick(WORDS)} ${pick(WORDS)}`,
        request: randomBytes(12).toString('base64'),
        trace: randomBytes(16).toString('hex'),
        ms: Math.floor(next() * 1000),
      };
      if (withLeak) record.config = `postgres://app:${leak()}@db:5432/app`;
      part = Buffer.from(`${JSON.stringify(record)}\n`);
      shares.json += part.length;
    } else {
      part = randomBytes(4096);
      if (withLeak) part = Buffer.concat([part, Buffer.from(leak())]);
      shares.binary += part.length;
    }
    parts.push(part);
    size += part.length;
  }
  // A last newline, so that the block repeated never glues a value across the seam.
  parts.push(Buffer.from('\n'));
  const block = Buffer.concat(parts);
  return {
    block,
    textShare: shares.text / block.length,
    jsonShare: shares.json / block.length,
    binaryShare: shares.binary / block.length,
  };
}

/** `size` bytes of `block`, repeated, in 64 KiB chunks (views, not copies). */
function* chunksOf(block: Buffer, size: number): Generator<Buffer> {
  let left = size;
  while (left > 0) {
    for (let offset = 0; offset < block.length && left > 0; offset += CHUNK) {
      const chunk = block.subarray(offset, Math.min(block.length, offset + CHUNK, offset + left));
      left -= chunk.length;
      yield chunk;
    }
  }
}

function throughput(bytes: number, wallMs: number, cpuMs: number): Throughput {
  const mb = bytes / 1e6;
  return {
    bytes,
    wallMs: round(wallMs),
    cpuMs: round(cpuMs),
    mbPerSecWall: round(mb / (wallMs / 1000), 1),
    mbPerSecCpu: round(mb / (Math.max(cpuMs, 0.001) / 1000), 1),
  };
}

async function timed(work: () => Promise<void> | void): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

function benchCore(module: RedactModule, redaction: Redaction, block: Buffer, size: number) {
  let out = 0;
  return timed(() => {
    const redactor = new module.Redactor(redaction);
    for (const chunk of chunksOf(block, size)) out += redactor.write(chunk).length;
    out += redactor.flush().length;
  }).then(({ wallMs, cpuMs }) => ({ result: throughput(size, wallMs, cpuMs), out }));
}

/** A Transform that copies every chunk: the plumbing of a RedactStream, without the redaction. */
function copying(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, Buffer.from(chunk));
    },
  });
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

async function benchStream(transform: () => Transform, block: Buffer, size: number) {
  const { wallMs, cpuMs } = await timed(() =>
    pipeline(Readable.from(chunksOf(block, size), { objectMode: false }), transform(), discard()),
  );
  return throughput(size, wallMs, cpuMs);
}

/** Feed `size` bytes to `command` through a pipe and count what comes back. */
async function benchPipe(
  command: string,
  args: readonly string[],
  block: Buffer,
  size: number,
): Promise<{ run: PipeRun; outBytes: number }> {
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let outBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    outBytes += chunk.length;
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const closed = once(child, 'close');
  for (const chunk of chunksOf(block, size)) {
    if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
  }
  child.stdin.end();
  const [code] = (await closed) as [number | null];
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const text = Buffer.concat(stderr).toString('utf8').trim();
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${text}`);
  const cpuAfter = childrenCpuMs();
  let cpuMs = cpuBefore === undefined || cpuAfter === undefined ? Number.NaN : cpuAfter - cpuBefore;
  let maxRssKb: number | undefined;
  let readyCpuMs = 0;
  if (text !== '') {
    // The filter reports its own usage, finer than the kernel's 10 ms ticks: once ready (start-up
    // and compiling the secrets, left out), and at the end.
    const [ready, done] = text.split('\n').map((row) => JSON.parse(row) as FilterUsage);
    readyCpuMs = ready!.cpuMs;
    cpuMs = done!.cpuMs - ready!.cpuMs;
    maxRssKb = done!.maxRssKb;
  }
  const base = throughput(size, wallMs, cpuMs);
  return {
    run: maxRssKb === undefined ? base : { ...base, maxRssKb, startupCpuMs: round(readyCpuMs) },
    outBytes,
  };
}

function latencySample(samplesUs: readonly number[]): LatencySample {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  return {
    medianUs: round(median(sorted), 1),
    p99Us: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!, 1),
  };
}

/** Write a line, wait until it comes out of the Transform; `lines` times. */
async function adapterLatency(transform: Transform, lines: readonly Buffer[]) {
  const samples: number[] = [];
  transform.resume();
  for (const line of lines) {
    const started = process.hrtime.bigint();
    const arrived = once(transform, 'data');
    transform.write(line);
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  transform.end();
  return latencySample(samples);
}

/** Write a line into the process, wait until it comes back out; `lines` times. */
async function pipeLatency(command: string, args: readonly string[], lines: readonly Buffer[]) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const closed = once(child, 'close');
  const samples: number[] = [];
  // One round trip first: the process is up and its pipes are open.
  const ready = once(child.stdout, 'data');
  child.stdin.write('ready\n');
  await ready;
  for (const line of lines) {
    const started = process.hrtime.bigint();
    let received = 0;
    const arrived = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received >= line.length) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
    });
    child.stdin.write(line);
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  child.stdin.end();
  await closed;
  return latencySample(samples);
}

function strategyOf(redaction: Redaction): string {
  if (!redaction.skipping) return 'automaton reads every byte';
  const filter = redaction.filter;
  const shorts = redaction.shortPatterns.length;
  if (filter === undefined) return `indexOf for ${shorts} short patterns`;
  return `skip filter (window ${filter.window})${shorts > 0 ? ` + indexOf for ${shorts} short patterns` : ''}`;
}

export async function benchRedact(options: RedactBenchOptions): Promise<RedactResult> {
  const module = (await import(
    pathToFileURL(join(REPO_ROOT, 'dist', 'redact', 'index.js')).href
  )) as RedactModule;
  const secrets = benchSecrets(options.secrets ?? 100);
  const compileStarted = process.hrtime.bigint();
  const redaction = module.compileRedaction(secrets);
  const compileMs = Number(process.hrtime.bigint() - compileStarted) / 1e6;
  const corpus = mixedOutput(secrets);
  const { block } = corpus;
  const redactedBlock = module.redactAll(redaction, block);
  const markers = redactedBlock.toString('latin1').split('<redacted:').length - 1;
  const size = options.sizeBytes;
  // Whole blocks, then a part of one: what a redacting filter must write back.
  const wholeBlocks = Math.floor(size / block.length);
  const expectedOut =
    wholeBlocks * redactedBlock.length +
    module.redactAll(redaction, block.subarray(0, size - wholeBlocks * block.length)).length;

  // Warm up the JIT on a few MiB first: the measured runs are about steady state.
  await benchCore(module, redaction, block, Math.min(size, 16 * 2 ** 20));
  const core = (await benchCore(module, redaction, block, size)).result;
  const passThrough = await benchStream(copying, block, size);
  const redactStream = await benchStream(() => new module.RedactStream(redaction), block, size);

  const dir = mkdtempSync(join(tmpdir(), 'credexec-bench-redact-'));
  try {
    const secretsFile = join(dir, 'secrets.json');
    writeFileSync(
      secretsFile,
      JSON.stringify(
        secrets.map((secret) => ({
          variable: secret.variable,
          value: secret.value.toString('base64'),
        })),
      ),
    );
    const filter = join(REPO_ROOT, 'bench', 'redact-filter.mjs');
    const cat = await benchPipe('cat', [], block, size);
    const nodePass = await benchPipe(process.execPath, [filter, '--pass-through'], block, size);
    const redact = await benchPipe(process.execPath, [filter, secretsFile], block, size);

    const next = random(13);
    const lines = Array.from({ length: options.latencyLines }, (_, index) =>
      Buffer.from(
        `2026-11-30T12:00:00.000Z INFO request ${index} handled in ${Math.floor(next() * 100)} ms by ${WORDS[index % WORDS.length]}\n`,
      ),
    );
    const latency = {
      adapterPassThrough: await adapterLatency(new PassThrough(), lines),
      adapterRedact: await adapterLatency(new module.RedactStream(redaction), lines),
      pipeCat: await pipeLatency('cat', [], lines),
      pipePassThrough: await pipeLatency(process.execPath, [filter, '--pass-through'], lines),
      pipeRedact: await pipeLatency(process.execPath, [filter, secretsFile], lines),
    };
    return {
      sizeBytes: size,
      secrets: secrets.length,
      patterns: redaction.patternCount,
      automatonStates: redaction.automaton.stateCount,
      compileMs: round(compileMs),
      strategy: strategyOf(redaction),
      corpus: {
        blockBytes: block.length,
        textShare: round(corpus.textShare, 3),
        jsonShare: round(corpus.jsonShare, 3),
        binaryShare: round(corpus.binaryShare, 3),
        matchesPerMiB: round(markers / (redactedBlock.length / 2 ** 20), 1),
      },
      core,
      stream: {
        passThrough,
        redact: redactStream,
        ratio: round(redactStream.mbPerSecCpu / passThrough.mbPerSecCpu, 3),
      },
      pipe: {
        cat: cat.run,
        passThrough: nodePass.run,
        redact: redact.run,
        ratioToCat: round(redact.run.mbPerSecWall / cat.run.mbPerSecWall, 3),
        ratioToPassThrough: round(redact.run.mbPerSecWall / nodePass.run.mbPerSecWall, 3),
        outputMatches: redact.outBytes === expectedOut && cat.outBytes === size,
      },
      latency,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
