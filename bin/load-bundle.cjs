'use strict';
/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS like the bin that loads it */
// Loads the bundled CLI (dist/bundle/*.cjs) with V8's code cache kept from one run to the next.
//
// Why not Node's compile cache (module.enableCompileCache, Node >= 22.1)? It stores a script's code
// right after compiling it, which covers its top level only: the functions a run then calls are
// compiled again on every start, and they are most of the work. A cache made after the launcher
// ran (vm.Script#createCachedData) holds them too; it starts `credexec -- CMD` faster than the
// compile cache does (bench/README.md has the figures) and works on Node 20 as well.
//
// The chunks are CommonJS files that require each other by "./name.cjs" and builtins by name; this
// is the small module system they need. The single executable (scripts/build-sea.js) runs the same
// code, reading the chunks and their caches (made at build time) from its assets.
const fs = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { Script } = require('node:vm');

const BUNDLE_DIR = path.join(__dirname, '..', 'dist', 'bundle');
const ENTRY = 'credexec.cjs';
// Cache files nobody used for this long are removed when a new one is written.
const STALE_MS = 30 * 24 * 3600 * 1000;

/** A chunk as a function, its first line on a line of its own (hence `lineOffset: -1`). */
function wrapChunk(source) {
  return `(function (exports, require, module, __filename, __dirname) {\n${source}\n})`;
}

/** 64 bits of FNV-1a-style hashing: a file name, not a defence (the directory is private). */
function hash(text) {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x5bd1e995);
  }
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

/**
 * V8 checks a code cache against the source's length only, so a cache belongs to one file as it
 * is on disk: its inode, size and change time, which every install, copy or edit renews (unlike
 * the modification time: npm sets that to 1985 for every file). V8 rejects a cache made under
 * other flags, so Node's options are in the key too: each set gets files of its own instead of
 * taking turns overwriting one. A stat costs less than hashing the source.
 */
function cacheKey(stat) {
  return hash(
    [
      process.version,
      process.arch,
      process.execArgv.join(' '),
      process.env.NODE_OPTIONS ?? '',
      `${stat.dev}:${stat.ino}:${stat.size}:${stat.ctimeMs}:${stat.mtimeMs}`,
    ].join('\0'),
  );
}

/**
 * The code cache directory, private to the user: `$XDG_CACHE_HOME/credexec/code-cache`, by default
 * `~/.cache/credexec/code-cache`, else under the temporary directory. `undefined` where there is
 * no uid to own it (Windows).
 */
function cacheDirectory(env) {
  if (typeof process.getuid !== 'function') return undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'credexec', 'code-cache');
  if (env.HOME && path.isAbsolute(env.HOME))
    return path.join(env.HOME, '.cache', 'credexec', 'code-cache');
  return path.join(tmpdir(), `credexec-code-cache-${process.getuid()}`);
}

/** Only a directory of ours that nobody else can read or write is trusted with code. */
function isPrivateDirectory(dir) {
  try {
    const stat = fs.lstatSync(dir);
    return stat.isDirectory() && stat.uid === process.getuid() && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

function removeStale(dir) {
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (now - fs.statSync(file).mtimeMs > STALE_MS) fs.unlinkSync(file);
    } catch {
      // Someone else removed it first.
    }
  }
}

/** Chunks from dist/bundle, caches from the user's cache directory. */
function fileSource(env) {
  const disabled = Boolean(env.NODE_DISABLE_COMPILE_CACHE);
  const dir = disabled ? undefined : cacheDirectory(env);
  const trusted = dir !== undefined && isPrivateDirectory(dir);
  const cacheFile = (name, key) => path.join(dir, `${name}.${key}.cache`);
  return {
    filename: (name) => path.join(BUNDLE_DIR, name),
    read(name) {
      const fd = fs.openSync(path.join(BUNDLE_DIR, name), 'r');
      try {
        const key = cacheKey(fs.fstatSync(fd));
        return { code: fs.readFileSync(fd, 'utf8'), key };
      } finally {
        fs.closeSync(fd);
      }
    },
    cachedData(name, key) {
      if (!trusted) return undefined;
      try {
        return fs.readFileSync(cacheFile(name, key));
      } catch {
        return undefined;
      }
    },
    /** Write what this run compiled; every failure is silent (a cache is never worth an error). */
    save(scripts) {
      if (dir === undefined || scripts.length === 0) return;
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (!isPrivateDirectory(dir)) return;
        for (const { name, key, script } of scripts) {
          const file = cacheFile(name, key);
          const temporary = `${file}.${process.pid}.tmp`;
          fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600, flag: 'wx' });
          fs.renameSync(temporary, file);
        }
        removeStale(dir);
      } catch {
        // An unwritable or full disk only means the next run compiles again.
      }
    },
  };
}

/** Chunks and the caches made when the single executable was built, from its assets. */
function seaSource(sea) {
  const assets = new Set(sea.getAssetKeys());
  return {
    filename: (name) => path.join(path.dirname(process.execPath), name),
    read: (name) => ({ code: sea.getAsset(name, 'utf8'), key: undefined }),
    cachedData: (name) =>
      assets.has(`${name}.cache`) ? new Uint8Array(sea.getRawAsset(`${name}.cache`)) : undefined,
    save() {},
  };
}

let source;

/** The single executable's main script switches the loader to its assets before the bin runs. */
function useSeaAssets(sea) {
  source = seaSource(sea);
}

/**
 * Load the CLI's entry chunk and return its exports. The caches are written at exit, and only by
 * launcher runs (`credexec … -- CMD`): start-up matters there, and a cache made by another
 * command would hold that command's functions instead of the launcher's.
 */
function loadBundle(args, env = process.env) {
  source ??= fileSource(env);
  const modules = new Map();
  const uncached = [];

  function load(name) {
    const loaded = modules.get(name);
    if (loaded !== undefined) return loaded.exports;
    const filename = source.filename(name);
    const { code, key } = source.read(name);
    const cachedData = source.cachedData(name, key);
    const script = new Script(wrapChunk(code), {
      filename,
      lineOffset: -1,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    if (cachedData === undefined || script.cachedDataRejected) uncached.push({ name, key, script });
    const chunk = { exports: {}, filename, id: filename, loaded: false };
    modules.set(name, chunk);
    try {
      script
        .runInThisContext()
        .call(chunk.exports, chunk.exports, requireChunk, chunk, filename, path.dirname(filename));
    } catch (error) {
      modules.delete(name);
      throw error;
    }
    chunk.loaded = true;
    return chunk.exports;
  }

  function requireChunk(id) {
    return id.startsWith('./') ? load(id.slice(2)) : require(id);
  }
  // Bundled code asks for it only to resolve a yargs config's "extends", which credexec never sets.
  requireChunk.resolve = (id, options) => require.resolve(id, options);

  const exports = load(ENTRY);
  const dashes = args.indexOf('--');
  if (dashes !== -1) {
    // 125: the launcher stopped before the command, having run only part of its code.
    process.once('exit', (code) => {
      if (code !== 125) source.save(uncached);
    });
    // With --exec there is no exit: the process becomes the command. Node announces each
    // process.execve on this channel just before the call (the message, which holds the
    // command's environment, is not looked at).
    if (args.slice(0, dashes).includes('--exec')) {
      require('node:diagnostics_channel').subscribe('process.execve', () => source.save(uncached));
    }
  }
  return exports;
}

module.exports = { loadBundle, useSeaAssets, wrapChunk, cacheDirectory };
