import type { ManifestProblem } from '../errors.js';

/** Collects problems so that one run reports every mistake in every manifest, not just the first. */
export class ProblemList {
  readonly #problems: ManifestProblem[] = [];

  add(file: string, line: number, message: string): void {
    this.#problems.push({ file, line, message });
  }

  get all(): readonly ManifestProblem[] {
    return this.#problems;
  }

  get empty(): boolean {
    return this.#problems.length === 0;
  }
}
