import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLimiter } from '../../src/resolve/limiter.js';

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
