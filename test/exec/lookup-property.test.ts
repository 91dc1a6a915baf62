import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { GLIBC_RULES, SHELL, execvp } from '../../src/exec/find-command.js';
import { lookupRules } from '../../src/exec/exec-starter.js';
import { predictExecve } from '../../src/exec/predict-exec.js';
import { processArgLimits } from '../../src/exec/arg-limits.js';

// Exec mode's lookup (execvp replayed, each execve predicted from the file system) against the
// real thing: node:child_process spawning the same command in the same layout. Needs glibc, the
// C library of Node's official Linux builds, whose rules exec mode replays there.
const glibc = process.platform === 'linux' && lookupRules() === GLIBC_RULES;
const linuxTest = glibc ? test : test.skip;

/** What a PATH directory (or the current directory) holds under the name `tool`. */
const KINDS = [
  'nothing',
  'directory',
  'not-executable',
  'script',
  'no-shebang',
  'missing-interpreter',
  'empty',
  'dangling-link',
  'link-to-script',
] as const;
type Kind = (typeof KINDS)[number];

function place(dir: string, kind: Kind, id: string): void {
  const tool = join(dir, 'tool');
  const write = (text: string, mode: number) => {
    writeFileSync(tool, text);
    chmodSync(tool, mode);
  };
  switch (kind) {
    case 'nothing':
      return;
    case 'directory':
      mkdirSync(tool);
      return;
    case 'not-executable':
      return write(`#!/bin/sh\necho ${id}\n`, 0o644);
    case 'script':
      return write(`#!/bin/sh\necho ${id}\n`, 0o755);
    case 'no-shebang':
      return write(`echo ${id} via sh\n`, 0o755);
    case 'missing-interpreter':
      return write('#!/nonexistent/sh\n', 0o755);
    case 'empty':
      return write('', 0o755);
    case 'dangling-link':
      return symlinkSync(join(dir, 'nowhere'), tool);
    case 'link-to-script':
      writeFileSync(join(dir, 'real'), `#!/bin/sh\necho ${id} linked\n`);
      chmodSync(join(dir, 'real'), 0o755);
      return symlinkSync(join(dir, 'real'), tool);
  }
}

const layout = fc.record({
  dirs: fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 4 }),
  here: fc.constantFrom(...KINDS),
  // Where the current directory (an empty entry) and a missing directory go in PATH, if at all.
  emptyAt: fc.option(fc.nat(4), { nil: undefined }),
  missingAt: fc.option(fc.nat(4), { nil: undefined }),
  command: fc.constantFrom('tool', './tool', 'here/../tool'),
});

linuxTest(
  'for any layout of PATH, exec mode finds the file the spawner runs, or fails with its errno',
  (t) => {
    const root = mkdtempSync(join(tmpdir(), 'credexec-lookup-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const limits = processArgLimits();
    let run = 0;
    fc.assert(
      fc.property(layout, ({ dirs, here, emptyAt, missingAt, command }) => {
        const base = join(root, String(run++));
        const cwd = join(base, 'cwd');
        mkdirSync(join(cwd, 'here'), { recursive: true });
        place(cwd, here, 'cwd');
        const entries = dirs.map((kind, index) => {
          const dir = join(base, `d${index}`);
          mkdirSync(dir);
          place(dir, kind, `d${index}`);
          return dir;
        });
        if (missingAt !== undefined) entries.splice(missingAt, 0, join(base, 'missing'));
        if (emptyAt !== undefined) entries.splice(emptyAt, 0, '');
        const env = { PATH: entries.join(':') };

        const real = spawnSync(command, [], { cwd, env, encoding: 'utf8' });
        const spawned =
          real.error === undefined ? real.stdout : (real.error as { code?: string }).code;

        let ran: string | undefined;
        const code = execvp(command, [command], env.PATH, GLIBC_RULES, (file, argv) => {
          const absolute = file.startsWith('/') ? file : join(cwd, file);
          const predicted = predictExecve(absolute, argv, { env, limits, formats: true });
          if (predicted === undefined) ran = file === SHELL ? argv[1] : file;
          return predicted;
        });
        if (code !== undefined) return spawned === code;
        // Run what exec mode chose the way the kernel would: the same output.
        const chosen = spawnSync(ran!.startsWith('/') ? ran! : join(cwd, ran!), [], {
          cwd,
          env,
          encoding: 'utf8',
        });
        const again = chosen.error === undefined ? chosen.stdout : `failed ${String(chosen.error)}`;
        return spawned === again;
      }),
      { seed: 130013, numRuns: 150 },
    );
    t.pass();
  },
);
