export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Run `work` over `inputs` with at most `limit` in flight; never rejects, so one failure cannot
 * strand the others. Results keep the input order.
 */
export async function settleWithConcurrency<I, O>(
  inputs: readonly I[],
  limit: number,
  work: (input: I, index: number) => Promise<O>,
): Promise<Settled<O>[]> {
  const results = new Array<Settled<O>>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await work(inputs[index]!, index) };
      } catch (error: unknown) {
        results[index] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return results;
}
