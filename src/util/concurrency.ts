/**
 * At most `limit` tasks run at once; others queue in arrival order. Tasks can be added while
 * others run, so work (a decrypt, say) starts the moment its input arrives.
 */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`invalid concurrency ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Run `work` over `inputs` with at most `limit` in flight; never rejects, so one failure cannot
 * strand the others. Results keep the input order.
 */
export function settleWithConcurrency<I, O>(
  inputs: readonly I[],
  limit: number,
  work: (input: I, index: number) => Promise<O>,
): Promise<Settled<O>[]> {
  const limited = createLimiter(limit);
  return Promise.all(
    inputs.map((input, index) =>
      limited(() => work(input, index)).then(
        (value): Settled<O> => ({ ok: true, value }),
        (error: unknown): Settled<O> => ({ ok: false, error }),
      ),
    ),
  );
}
