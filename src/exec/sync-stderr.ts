import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * credexec's own stderr in exec mode: each line is written before `write` returns, so nothing is
 * left in a buffer when the process is replaced, and no stream is opened on descriptor 2 (Node
 * makes the pipes it opens non-blocking). A failed write (nobody reads) is an 'error' event.
 */
export function synchronousStderr(fd = 2): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
        callback();
      } catch (error: unknown) {
        callback(error as Error);
      }
    },
  });
}
