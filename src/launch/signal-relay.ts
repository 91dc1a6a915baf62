/** The signals credexec handles (SPEC §5); each reaches the child exactly once. */
export const FORWARDED_SIGNALS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
] as const satisfies readonly NodeJS.Signals[];

export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

/** Signals a terminal sends to its whole foreground process group. */
const TERMINAL_SIGNALS: ReadonlySet<ForwardedSignal> = new Set(['SIGINT', 'SIGQUIT']);

/** By convention these ask a program to stop, so secret files can go now (not for reloads). */
const STOP_SIGNALS: ReadonlySet<ForwardedSignal> = new Set(['SIGINT', 'SIGTERM', 'SIGQUIT']);

/** Only SIGWINCH is harmless before the child exists; the others would have killed credexec. */
export function stopsResolution(signal: ForwardedSignal): boolean {
  return signal !== 'SIGWINCH';
}

export function asksToStop(signal: ForwardedSignal): boolean {
  return STOP_SIGNALS.has(signal);
}

export function isTerminalSignal(signal: ForwardedSignal): boolean {
  return TERMINAL_SIGNALS.has(signal);
}

/** The part of `process` the relay uses, so tests can drive it with an EventEmitter. */
export interface SignalSource {
  on(signal: ForwardedSignal, listener: () => void): unknown;
  off(signal: ForwardedSignal, listener: () => void): unknown;
}

/**
 * Listens for the forwarded signals from the very start (so none can kill credexec with its
 * default action, which also matters as PID 1 where unhandled signals are simply ignored) and
 * hands each one to the current handler. `close()` removes every listener it added.
 */
export class SignalRelay {
  readonly #source: SignalSource;
  readonly #listeners = new Map<ForwardedSignal, () => void>();
  #handler: (signal: ForwardedSignal) => void;

  constructor(source: SignalSource, handler: (signal: ForwardedSignal) => void) {
    this.#source = source;
    this.#handler = handler;
    for (const signal of FORWARDED_SIGNALS) {
      const listener = () => this.#handler(signal);
      this.#listeners.set(signal, listener);
      source.on(signal, listener);
    }
  }

  setHandler(handler: (signal: ForwardedSignal) => void): void {
    this.#handler = handler;
  }

  close(): void {
    for (const [signal, listener] of this.#listeners) this.#source.off(signal, listener);
    this.#listeners.clear();
  }
}
