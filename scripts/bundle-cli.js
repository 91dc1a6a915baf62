// Bundle the CLI so that start-up loads a few files instead of walking hundreds of modules.
// Code splitting keeps what a run does not need out of its way: the aws backend (with the AWS SDK,
// bundled from its ES modules so unused commands are dropped) and the yargs CLI are chunks that
// only load when used, so `credexec -- CMD` on the local backend loads neither.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// Chunk names carry content hashes: drop the previous build's.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { credexec: 'src/cli/main.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  mainFields: ['module', 'main'],
  define: { CREDEXEC_VERSION: JSON.stringify(version) },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // Bundled CommonJS (dotenv) calls require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __credexecRequire } from 'node:module'; const require = __credexecRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
