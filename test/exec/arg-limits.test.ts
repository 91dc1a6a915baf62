import { spawnSync } from 'node:child_process';
import test from 'ava';
import fc from 'fast-check';
import { exceedsArgLimits, processArgLimits, stackLimitOf } from '../../src/exec/arg-limits.js';

const MiB = 2 ** 20;
const usual = { stackBytes: 8 * MiB, pointerBytes: 8 };

test('the stack limit is read from /proc/<pid>/limits', (t) => {
  const text = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax stack size            ${soft}              unlimited            bytes     \n`;
  t.is(stackLimitOf(text('8388608')), 8 * MiB);
  t.is(stackLimitOf(text('unlimited')), Number.POSITIVE_INFINITY);
  t.is(stackLimitOf('Max open files 1024 1024 files\n'), undefined);
});

test('one string over 128 KiB with its NUL is too large, whatever the total', (t) => {
  const fits = 'x'.repeat(128 * 1024 - 1 - 'V='.length);
  t.false(exceedsArgLimits('/bin/true', ['true'], { V: fits }, usual));
  t.true(exceedsArgLimits('/bin/true', ['true'], { V: `${fits}x` }, usual));
  t.true(exceedsArgLimits('/bin/true', ['true', `${fits}xxx`], {}, usual));
});

test('the total is a quarter of the stack limit, at most 6 MiB, at least 128 KiB, less 8 bytes a pointer', (t) => {
  const file = '/bin/true';
  const argv = ['true'];
  for (const [stackBytes, budget] of [
    [8 * MiB, 2 * MiB],
    [Number.POSITIVE_INFINITY, 6 * MiB],
    [64 * MiB, 6 * MiB],
    [256 * 1024, 128 * 1024],
  ] as const) {
    const limits = { stackBytes, pointerBytes: 8 };
    // Variables of 100 000 bytes each as NAME=value plus NUL, up to some 20 KB short of the budget.
    const env: Record<string, string> = {};
    let used = file.length + 1 + argv[0]!.length + 1 + 8;
    for (let i = 0; used + 100_008 < budget - 20_000; i++) {
      env[`V${String(i).padStart(3, '0')}`] = 'x'.repeat(100_000 - 6);
      used += 100_000 + 8;
    }
    // The last variable takes exactly what is left: its pointer, "Z=", the value and its NUL.
    const value = budget - used - 8 - 3;
    t.false(
      exceedsArgLimits(file, argv, { ...env, Z: 'z'.repeat(value) }, limits),
      `${stackBytes}`,
    );
    t.true(
      exceedsArgLimits(file, argv, { ...env, Z: 'z'.repeat(value + 1) }, limits),
      `${stackBytes}`,
    );
  }
});

const linuxTest = process.platform === 'linux' ? test : test.skip;

linuxTest(
  'the model agrees with the kernel on both sides of the limit, for environments of any shape',
  (t) => {
    const limits = processArgLimits()!;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 6 }),
        (smallVars, bigVars, args) => {
          const env: Record<string, string> = {};
          for (let i = 0; i < smallVars; i++) env[`S${i}`] = 's'.repeat(i % 17);
          for (let i = 0; i < bigVars; i++) env[`B${i}`] = 'b'.repeat(40_000);
          const argv = ['/bin/true', ...args.map((n) => 'a'.repeat(n))];
          const kernel = (pad: number) =>
            spawnSync(argv[0]!, argv.slice(1), { env: { ...env, PAD: 'p'.repeat(pad) } }).error ===
            undefined;
          const model = (pad: number) =>
            !exceedsArgLimits(argv[0]!, argv, { ...env, PAD: 'p'.repeat(pad) }, limits);
          // The largest PAD the kernel accepts, if the boundary is in reach of one variable.
          if (!kernel(0) || kernel(120_000))
            return model(0) === kernel(0) && model(120_000) === kernel(120_000);
          let [low, high] = [0, 120_000];
          while (high - low > 1) {
            const middle = Math.floor((low + high) / 2);
            if (kernel(middle)) low = middle;
            else high = middle;
          }
          return model(low) && !model(low + 1);
        },
      ),
      { seed: 13, numRuns: 12 },
    );
    t.pass();
  },
);
