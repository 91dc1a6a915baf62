import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLimiter, settleWithConcurrency } from '../../src/util/concurrency.js';

test('a limiter never runs more tasks than its limit and runs them all', async (t) => {
  const limit = createLimiter(3);
  let running = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        peak = Math.max(peak, ++running);
        await sleep(2);
        running--;
        return i;
      }),
    ),
  );
  t.is(peak, 3);
  t.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('a failing task frees its slot', async (t) => {
  const limit = createLimiter(1);
  await t.throwsAsync(
    limit(() => Promise.reject(new Error('boom'))),
    { message: 'boom' },
  );
  t.is(await limit(() => Promise.resolve('next')), 'next');
});

test('a limit below one is refused', (t) => {
  t.throws(() => createLimiter(0), { instanceOf: RangeError, message: 'invalid concurrency 0' });
});

test('settleWithConcurrency keeps input order, records failures and never exceeds the limit', async (t) => {
  let running = 0;
  let peak = 0;
  const results = await settleWithConcurrency([5, 1, 3, 2], 2, async (delay, index) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, delay));
    running--;
    if (index === 2) throw new Error('third fails');
    return delay * 10;
  });
  t.is(peak, 2);
  t.deepEqual(
    results.map((result) => (result.ok ? result.value : (result.error as Error).message)),
    [50, 10, 'third fails', 20],
  );
});
