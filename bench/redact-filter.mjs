// The redaction half of `credexec --redact` as a process of its own, for bench/redact.ts: stdin
// through a RedactStream (the built dist/, as credexec ships it) to stdout. On stderr, one JSON
// line with its CPU time once it is ready to read (start-up and compiling the secrets), and one
// at the end with its CPU time and peak RSS. `node bench/redact-filter.mjs SECRETS.json` redacts the
// bench's fake secrets; `node bench/redact-filter.mjs --pass-through` copies without redacting
// (Node's own pipe cost, the baseline beside `cat`). Plain JavaScript, so no TypeScript loader
// runs in the measured process.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const usage = () => {
  const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage();
  return { cpuMs: (userCPUTime + systemCPUTime) / 1000, maxRssKb: maxRSS };
};
const [mode] = process.argv.slice(2);
if (mode === '--pass-through') {
  process.stderr.write(`${JSON.stringify(usage())}\n`);
  await pipeline(process.stdin, new PassThrough(), process.stdout);
} else {
  const { compileRedaction, RedactStream, pipeRedacted } = await import('../dist/redact/index.js');
  const secrets = JSON.parse(readFileSync(mode, 'utf8')).map((secret) => ({
    variable: secret.variable,
    value: Buffer.from(secret.value, 'base64'),
  }));
  const redaction = compileRedaction(secrets);
  process.stderr.write(`${JSON.stringify(usage())}\n`);
  await pipeRedacted(process.stdin, new RedactStream(redaction), process.stdout);
}
process.stderr.write(`${JSON.stringify(usage())}\n`);
