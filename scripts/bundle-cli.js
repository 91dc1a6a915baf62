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
import { dirname } from 'node:path';
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

for (const file of esm.outputFiles) {
  let contents = file.contents;
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
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, contents);
}
