/**
 * Run in a child process by test/stores/local-file.test.ts: takes the store's write lock through
 * a real put, says `locked` on stdout and then blocks inside the lock until it is killed. Used to
 * leave a lock whose holder was SIGKILLed, or is alive but stopped.
 */
import { writeSync } from 'node:fs';
import { LocalFileStore } from '../../src/stores/local-file.js';

const [path] = process.argv.slice(2);
const stuck = new Int32Array(new SharedArrayBuffer(4));

await new LocalFileStore(path!).put({
  name: 'held',
  key: 'a2V5',
  contents: '',
  hmac: 'ab',
  digest: 'SHA256',
  // Read only under the lock (to look the version up): the holder stops right there.
  get version(): string {
    writeSync(1, 'locked\n');
    Atomics.wait(stuck, 0, 0);
    return '0000000000000000001';
  },
});
