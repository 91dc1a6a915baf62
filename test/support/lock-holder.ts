import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './vectors.js';

const HOLDER = join(REPO_ROOT, 'test', 'support', 'store-lock-holder.ts');

/** A real process that took the store's lock through a put and is now blocked inside it. */
export async function startLockHolder(storePath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, storePath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('locked\n')) resolve();
    });
    child.on('exit', (code, signal) => reject(new Error(`holder ended: ${code ?? signal}`)));
  });
  return child;
}

/** SIGKILL `child` (if it still runs) and resolve once it has exited. */
export function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
