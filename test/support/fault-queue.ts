/**
 * Faults a test server should answer with: each is used for the next `times` requests of its
 * operation (or of any operation when none is given), oldest first.
 */
export class FaultQueue<Operation extends string, Fault> {
  readonly #pending: { fault: Fault; remaining: number; operation: Operation | undefined }[] = [];

  add(fault: Fault, times = 1, operation?: Operation): void {
    this.#pending.push({ fault, remaining: times, operation });
  }

  /** The fault for this request, if any is pending for its operation. */
  take(operation: Operation): Fault | undefined {
    const index = this.#pending.findIndex(
      (pending) => pending.operation === undefined || pending.operation === operation,
    );
    const pending = this.#pending[index];
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.#pending.splice(index, 1);
    return pending.fault;
  }

  clear(): void {
    this.#pending.length = 0;
  }
}
