import { EventEmitter } from 'node:events';
import type { LaunchIo } from '../../src/launch/run-launcher.js';

/**
 * A LaunchIo for runLauncher in process: PATH from this process, secret files under `dir`, signals
 * the test emits itself, and the warnings collected instead of printed.
 */
export function fakeIo(dir: string, overrides: Partial<LaunchIo> = {}) {
  const signals = new EventEmitter();
  const warnings: string[] = [];
  const io: LaunchIo = {
    env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: dir },
    pid: process.pid,
    stdinIsTty: false,
    signals,
    isForeground: () => undefined,
    warn: (line) => warnings.push(line),
    ...overrides,
  };
  return { io, signals, warnings };
}
