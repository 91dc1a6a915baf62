// Bundle the CLI so that start-up loads one file instead of walking hundreds of modules.
// The AWS SDK stays external and is reached through a dynamic import, so only the aws backend
// loads it; the aws backend code itself is split into its own chunk for the same reason.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

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
  external: ['@aws-sdk/*'],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // Bundled CommonJS (dotenv) calls require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __credexecRequire } from 'node:module'; const require = __credexecRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
