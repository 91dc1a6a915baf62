// Bundle the CLI so that start-up loads a few files instead of walking hundreds of modules.
// Code splitting keeps what a run does not need out of its way: the aws backend (with the AWS SDK,
// bundled from its ES modules so unused commands are dropped) and the yargs CLI are chunks that
// only load when used, so `credexec -- CMD` on the local backend loads neither.
//
// The chunks are CommonJS (.cjs), required by bin/credexec.cjs: loading them skips Node's ESM
// loader (resolution, module jobs, the ESM facades of builtins), a sizeable share of start-up.
// esbuild only splits ES modules, so the bundle is built as ESM and every chunk is then converted:
// static imports become require() calls and dynamic imports lazy ones, so the chunks still load
// only when used, and each loads once (the require cache keeps module identity).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, formatMessages, transform } from 'esbuild';

const OUT_DIR = 'dist/bundle';
const TARGET = 'node20.19';
const MINIFY = { minifyWhitespace: true, minifySyntax: true };

/** Bundled ESM code that reads import.meta (yargs finds its files with it) gets the CJS values. */
const IMPORT_META = {
  define: {
    'import.meta.url': '__credexecImportMetaUrl',
    'import.meta.resolve': '__credexecImportMetaResolve',
  },
  banner:
    'var __credexecImportMetaUrl=require("node:url").pathToFileURL(__filename).href,' +
    '__credexecImportMetaResolve=(specifier)=>require("node:url").pathToFileURL(require.resolve(specifier)).href;',
};

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

/** Any warning (say, an import.meta the conversion would leave empty) fails the build. */
async function failOnWarnings(what, warnings) {
  if (warnings.length === 0) return;
  const text = await formatMessages(warnings, { kind: 'warning', color: false });
  throw new Error(`${what}: ${warnings.length} esbuild warning(s)\n${text.join('\n')}`);
}

// Chunk names carry content hashes: drop the previous build's.
rmSync(OUT_DIR, { recursive: true, force: true });

const esm = await build({
  entryPoints: { credexec: 'src/cli/main.ts' },
  outdir: OUT_DIR,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: TARGET,
  mainFields: ['module', 'main'],
  define: { CREDEXEC_VERSION: JSON.stringify(version) },
  ...MINIFY,
  legalComments: 'linked',
  write: false,
  logLevel: 'silent',
});
await failOnWarnings('bundle', esm.warnings);

const outputs = new Map();
for (const file of esm.outputFiles) {
  let contents = file.text;
  if (file.path.endsWith('.cjs')) {
    const usesImportMeta = file.text.includes('import.meta');
    const cjs = await transform(file.text, {
      sourcefile: file.path,
      format: 'cjs',
      platform: 'node',
      target: TARGET,
      // import("./chunk.cjs") becomes Promise.resolve().then(() => require("./chunk.cjs")).
      supported: { 'dynamic-import': false },
      ...MINIFY,
      legalComments: 'inline',
      ...(usesImportMeta ? IMPORT_META : {}),
    });
    await failOnWarnings(file.path, cjs.warnings);
    contents = cjs.code;
  }
  outputs.set(relative(OUT_DIR, file.path), contents);
}

// Every file costs start-up something (reading it, compiling or deserializing its code cache,
// running its wrapper), so the entry takes in the chunks it requires at load time: it carries them
// as functions, run on first use as a require() would. The lazy chunks that use them too get
// them from the entry, so that each still exists once.
const LAZY_REQUIRE = /Promise\.resolve\(\)\.then\(\(\)=>__toESM\(require\("\.\/([^"]+)"\)\)\)/g;
const STATIC_REQUIRE = /require\("\.\/([^"]+\.cjs)"\)/g;

function staticRequires(name) {
  const text = outputs.get(name).replaceAll(LAZY_REQUIRE, '');
  return [...text.matchAll(STATIC_REQUIRE)].map((match) => match[1]);
}

const ENTRY = 'credexec.cjs';
const merged = new Set();
for (const pending = staticRequires(ENTRY); pending.length > 0;) {
  const name = pending.pop();
  if (merged.has(name)) continue;
  merged.add(name);
  pending.push(...staticRequires(name));
}
const inEntry = (text) =>
  text.replaceAll(STATIC_REQUIRE, (call, name) =>
    merged.has(name) ? `__credexecChunk(${JSON.stringify(name)})` : call,
  );
const chunkFunctions = [...merged]
  .sort()
  .map(
    (name) =>
      `${JSON.stringify(name)}:function(exports,require,module,__filename,__dirname){${inEntry(outputs.get(name))}\n}`,
  );
outputs.set(
  ENTRY,
  `var __credexecChunks={${chunkFunctions.join(',')}},__credexecLoaded=new Map;` +
    'function __credexecChunk(name){let loaded=__credexecLoaded.get(name);if(loaded!==void 0)return loaded.exports;' +
    'loaded={exports:{}};__credexecLoaded.set(name,loaded);' +
    '__credexecChunks[name].call(loaded.exports,loaded.exports,require,loaded,__filename,__dirname);return loaded.exports}' +
    `${inEntry(outputs.get(ENTRY))}\n` +
    'Object.defineProperty(module.exports,"__credexecChunk",{value:__credexecChunk});\n',
);
for (const name of merged) outputs.delete(name);
for (const [name, text] of outputs) {
  if (name === ENTRY || !name.endsWith('.cjs')) continue;
  outputs.set(
    name,
    text.replaceAll(STATIC_REQUIRE, (call, required) =>
      merged.has(required)
        ? `require("./${ENTRY}").__credexecChunk(${JSON.stringify(required)})`
        : call,
    ),
  );
}

mkdirSync(OUT_DIR, { recursive: true });
for (const [name, contents] of outputs) writeFileSync(join(OUT_DIR, name), contents);
