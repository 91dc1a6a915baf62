/**
 * A byte-level Aho–Corasick automaton over a fixed set of patterns, built once and shared by any
 * number of streams (it holds no stream state). Pure.
 *
 * Layout, chosen for the scanning loop in redactor.ts:
 * - States are numbered fast-dense first, then dense states that end a match, then sparse ones.
 *   "Dense" states (the shallow ones, depth ≤ D) have a full 256-entry transition row, failure
 *   transitions folded in, so one table load per byte moves the automaton; "fast" means dense
 *   and ending no match, so the hot loop only has to compare the next state with one limit.
 * - Deeper states (reached only when the output follows a pattern for more than D bytes) keep
 *   their trie edges only, and fall back along failure links to a dense state. Most of them are
 *   chains with one edge, so they cost little memory however long the secrets are.
 */
export class Automaton {
  /** States below this id are dense and end no match. */
  readonly fastLimit: number;
  /** States below this id have a dense row. */
  readonly denseLimit: number;
  readonly stateCount: number;
  /** `dense[(state << 8) | byte]` is the next state, for state < denseLimit. */
  readonly dense: Int32Array;
  readonly fail: Int32Array;
  /** Length of the longest pattern that ends in this state (a suffix of its string), or 0. */
  readonly matchLength: Int32Array;
  /** Index of that pattern. */
  readonly matchPattern: Int32Array;
  /**
   * Depth of the longest suffix of this state's string that is a proper prefix of a pattern (a
   * state with outgoing edges): how many bytes must still be held back in this state.
   */
  readonly liveDepth: Int32Array;
  /** Trie edges of sparse state s are edge*[edgeStart[s - denseLimit] … edgeStart[s - denseLimit + 1]). */
  readonly edgeStart: Int32Array;
  readonly edgeByte: Uint8Array;
  readonly edgeTarget: Int32Array;
  readonly longestPattern: number;

  constructor(patterns: readonly Uint8Array[], options: { maxDenseStates?: number } = {}) {
    const trie = buildTrie(patterns);
    const denseDepth = chooseDenseDepth(trie, options.maxDenseStates ?? 1024);
    const links = linkTrie(trie, denseDepth);
    const numbering = renumber(trie, links, denseDepth);
    const { newId, oldIds, fastLimit, denseLimit } = numbering;
    const count = oldIds.length;
    this.stateCount = count;
    this.fastLimit = fastLimit;
    this.denseLimit = denseLimit;
    this.longestPattern = patterns.reduce(
      (longest, pattern) => Math.max(longest, pattern.length),
      0,
    );
    this.fail = new Int32Array(count);
    this.matchLength = new Int32Array(count);
    this.matchPattern = new Int32Array(count);
    this.liveDepth = new Int32Array(count);
    for (let id = 0; id < count; id += 1) {
      const old = oldIds[id]!;
      this.fail[id] = newId[links.fail[old]!]!;
      this.matchLength[id] = links.matchLength[old]!;
      this.matchPattern[id] = links.matchPattern[old]!;
      this.liveDepth[id] = links.liveDepth[old]!;
    }
    this.dense = new Int32Array(denseLimit * 256);
    for (let id = 0; id < denseLimit; id += 1) {
      const row = links.rows.get(oldIds[id]!)!;
      for (let byte = 0; byte < 256; byte += 1) this.dense[(id << 8) | byte] = newId[row[byte]!]!;
    }
    this.edgeStart = new Int32Array(count - denseLimit + 1);
    let edges = 0;
    for (let id = denseLimit; id < count; id += 1) edges += trie.childCount[oldIds[id]!]!;
    this.edgeByte = new Uint8Array(edges);
    this.edgeTarget = new Int32Array(edges);
    let edge = 0;
    for (let id = denseLimit; id < count; id += 1) {
      this.edgeStart[id - denseLimit] = edge;
      for (let child = trie.firstChild[oldIds[id]!]!; child >= 0; child = trie.sibling[child]!) {
        this.edgeByte[edge] = trie.label[child]!;
        this.edgeTarget[edge] = newId[child]!;
        edge += 1;
      }
    }
    this.edgeStart[count - denseLimit] = edge;
  }

  /** The state after `byte` in `state` (any state). */
  step(state: number, byte: number): number {
    let current = state;
    const denseLimit = this.denseLimit;
    while (current >= denseLimit) {
      const index = current - denseLimit;
      const end = this.edgeStart[index + 1]!;
      for (let edge = this.edgeStart[index]!; edge < end; edge += 1) {
        if (this.edgeByte[edge] === byte) return this.edgeTarget[edge]!;
      }
      current = this.fail[current]!;
    }
    return this.dense[(current << 8) | byte]!;
  }

  /** Zero the tables: they spell out the secrets. The automaton must not be used afterwards. */
  wipe(): void {
    for (const table of [
      this.dense,
      this.fail,
      this.matchLength,
      this.matchPattern,
      this.liveDepth,
      this.edgeStart,
      this.edgeByte,
      this.edgeTarget,
    ]) {
      table.fill(0);
    }
  }
}

/**
 * A trie as parallel typed arrays (first-child / next-sibling lists), sized for the worst case (no
 * shared prefixes), so building it allocates little garbage; node 0 is the root.
 */
interface Trie {
  count: number;
  readonly firstChild: Int32Array;
  readonly sibling: Int32Array;
  readonly label: Uint8Array;
  readonly parent: Int32Array;
  readonly depth: Int32Array;
  readonly childCount: Int32Array;
  /** Index of the pattern that ends at the node, or -1. */
  readonly terminal: Int32Array;
}

function buildTrie(patterns: readonly Uint8Array[]): Trie {
  const capacity = 1 + patterns.reduce((total, pattern) => total + pattern.length, 0);
  const trie: Trie = {
    count: 1,
    firstChild: new Int32Array(capacity).fill(-1),
    sibling: new Int32Array(capacity).fill(-1),
    label: new Uint8Array(capacity),
    parent: new Int32Array(capacity).fill(-1),
    depth: new Int32Array(capacity),
    childCount: new Int32Array(capacity),
    terminal: new Int32Array(capacity).fill(-1),
  };
  const rootChildren = new Int32Array(256).fill(-1);
  patterns.forEach((pattern, index) => {
    if (pattern.length === 0) throw new RangeError('a redaction pattern cannot be empty');
    let node = 0;
    for (const byte of pattern) {
      let child = node === 0 ? rootChildren[byte]! : findChild(trie, node, byte);
      if (child < 0) {
        child = trie.count;
        trie.count += 1;
        trie.sibling[child] = trie.firstChild[node]!;
        trie.label[child] = byte;
        trie.parent[child] = node;
        trie.depth[child] = trie.depth[node]! + 1;
        trie.firstChild[node] = child;
        trie.childCount[node] = trie.childCount[node]! + 1;
        if (node === 0) rootChildren[byte] = child;
      }
      node = child;
    }
    // Patterns are deduplicated by the caller; keep the first should two be equal anyway.
    if (trie.terminal[node]! < 0) trie.terminal[node] = index;
  });
  return trie;
}

function findChild(trie: Trie, node: number, byte: number): number {
  for (let child = trie.firstChild[node]!; child >= 0; child = trie.sibling[child]!) {
    if (trie.label[child] === byte) return child;
  }
  return -1;
}

/** The largest depth D ≥ 1 such that the states of depth ≤ D fit in `maxDenseStates` rows. */
function chooseDenseDepth(trie: Trie, maxDenseStates: number): number {
  const perDepth: number[] = [];
  for (let node = 0; node < trie.count; node += 1) {
    const depth = trie.depth[node]!;
    perDepth[depth] = (perDepth[depth] ?? 0) + 1;
  }
  let total = perDepth[0]! + (perDepth[1] ?? 0);
  let chosen = 1;
  while (chosen + 1 < perDepth.length && total + perDepth[chosen + 1]! <= maxDenseStates) {
    chosen += 1;
    total += perDepth[chosen]!;
  }
  return chosen;
}

interface Links {
  readonly fail: Int32Array;
  readonly matchLength: Int32Array;
  readonly matchPattern: Int32Array;
  readonly liveDepth: Int32Array;
  /** Full transition rows of the dense states (depth ≤ D), in old ids. */
  readonly rows: Map<number, Int32Array>;
  /** Nodes in breadth-first order. */
  readonly order: Int32Array;
}

/** Failure links, match lengths and dense rows, in breadth-first order (classic Aho–Corasick). */
function linkTrie(trie: Trie, denseDepth: number): Links {
  const count = trie.count;
  const fail = new Int32Array(count);
  const matchLength = new Int32Array(count);
  const matchPattern = new Int32Array(count).fill(-1);
  const liveDepth = new Int32Array(count);
  const rows = new Map<number, Int32Array>();
  const delta = (state: number, byte: number): number => {
    let current = state;
    while (trie.depth[current]! > denseDepth) {
      const child = findChild(trie, current, byte);
      if (child >= 0) return child;
      current = fail[current]!;
    }
    return rows.get(current)![byte]!;
  };
  const order = new Int32Array(count);
  let queued = 1;
  for (let head = 0; head < queued; head += 1) {
    const node = order[head]!;
    const parent = trie.parent[node]!;
    fail[node] = parent <= 0 ? 0 : delta(fail[parent]!, trie.label[node]!);
    const fallback = fail[node]!;
    if (trie.terminal[node]! >= 0) {
      matchLength[node] = trie.depth[node]!;
      matchPattern[node] = trie.terminal[node]!;
    } else if (node !== 0) {
      matchLength[node] = matchLength[fallback]!;
      matchPattern[node] = matchPattern[fallback]!;
    }
    liveDepth[node] =
      trie.childCount[node]! > 0 ? trie.depth[node]! : node === 0 ? 0 : liveDepth[fallback]!;
    if (trie.depth[node]! <= denseDepth) {
      const row = node === 0 ? new Int32Array(256) : Int32Array.from(rows.get(fallback)!);
      for (let child = trie.firstChild[node]!; child >= 0; child = trie.sibling[child]!) {
        row[trie.label[child]!] = child;
      }
      rows.set(node, row);
    }
    for (let child = trie.firstChild[node]!; child >= 0; child = trie.sibling[child]!) {
      order[queued] = child;
      queued += 1;
    }
  }
  return { fail, matchLength, matchPattern, liveDepth, rows, order };
}

/** New ids: dense states without a match (root first), then dense ones with a match, then sparse. */
function renumber(trie: Trie, links: Links, denseDepth: number) {
  const fast: number[] = [];
  const matching: number[] = [];
  const sparse: number[] = [];
  for (const node of links.order) {
    if (trie.depth[node]! > denseDepth) sparse.push(node);
    else if (links.matchLength[node] === 0) fast.push(node);
    else matching.push(node);
  }
  const oldIds = [...fast, ...matching, ...sparse];
  const newId = new Int32Array(oldIds.length);
  oldIds.forEach((old, id) => {
    newId[old] = id;
  });
  return {
    newId,
    oldIds,
    fastLimit: fast.length,
    denseLimit: fast.length + matching.length,
  };
}
