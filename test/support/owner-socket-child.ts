/**
 * Run in a child process by test/util/owner-socket.test.ts: listens on an owner socket, says
 * `listening`, then either waits to be killed (`hold`) or lets its event loop drain (`idle`).
 */
import { listenOwnerSocket } from '../../src/util/owner-socket.js';

const [path, mode] = process.argv.slice(2);
await listenOwnerSocket(path!);
process.stdout.write('listening\n');
if (mode === 'hold') setInterval(() => undefined, 1_000);
