import { readFileSync } from 'node:fs';

/**
 * Where a credexec run spends its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`): every sample
 * is put in the first category whose rule matches its stack, so the shares add up to the run.
 * Function names survive the bundle (it is not identifier-minified), which lets SDK and Node
 * internals be told apart without source maps.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

type Rule = readonly [category: string, matches: (stack: readonly CallFrame[]) => boolean];

const named =
  (pattern: RegExp) =>
  (stack: readonly CallFrame[]): boolean =>
    stack.some((frame) => pattern.test(frame.functionName));
const leaf =
  (test: (frame: CallFrame) => boolean) =>
  (stack: readonly CallFrame[]): boolean =>
    stack.length > 0 && test(stack[0]!);

const RULES: readonly Rule[] = [
  ['idle: waiting for I/O', leaf((frame) => frame.functionName === '(idle)')],
  ['garbage collection', leaf((frame) => frame.functionName === '(garbage collector)')],
  [
    'loading and compiling code (bundle and builtins)',
    named(
      /^(compileSourceTextModule|compileForInternalLoader|compileForPublicLoader|wrapSafe|loadAndTranslate|requireBuiltin|Module\._load|link|_link|instantiate)$/,
    ),
  ],
  ['spawning the command', named(/^(spawnChild|ChildProcess\.spawn)$/)],
  [
    'SigV4 signing (SDK or credexec)',
    named(/^(headerLines|sign|getSignature|getSigningKey|presign)$/),
  ],
  ['SDK: serializing requests', named(/^serializeRequest$/)],
  ['SDK: parsing responses', named(/^(deserializeResponse|collectBody|streamCollector.*)$/)],
  // openCredential is the pure envelope step (HMAC check, AES-CTR); decryptItem would also
  // cover the KMS call it makes.
  ['credexec: envelope (HMAC check, AES-CTR)', named(/^openCredential$/)],
  [
    'Node internals: HTTP, sockets, streams, fs',
    leaf((frame) => frame.url.startsWith('node:') || /internal\//.test(frame.url)),
  ],
  [
    'other bundle code (credexec, SDK middleware)',
    leaf((frame) => /dist\/bundle\//.test(frame.url)),
  ],
  ['other (V8, native)', () => true],
];

export interface ProfileShare {
  readonly category: string;
  readonly ms: number;
  readonly share: number;
}

export function summarizeProfile(path: string): { totalMs: number; shares: ProfileShare[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>(RULES.map(([category]) => [category, 0]));
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    totalUs += delta;
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      stack.push(byId.get(at)!.callFrame);
    }
    const [category] = RULES.find(([, matches]) => matches(stack))!;
    totals.set(category, totals.get(category)! + delta);
  });
  return {
    totalMs: totalUs / 1000,
    shares: [...totals]
      .filter(([, us]) => us > 0)
      .map(([category, us]) => ({ category, ms: us / 1000, share: us / totalUs })),
  };
}
