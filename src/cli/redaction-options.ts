import { UsageError } from '../errors.js';
import type { ChildStarter } from '../launch/child-starter.js';
import type { Resolution } from '../resolve/resolve-entries.js';
import type { CommandContext } from './command-context.js';

/** `--redact`, `--redact-min-length`, as parsed for run and check. */
export interface RedactionArguments {
  readonly redact?: boolean | undefined;
  readonly redactMinLength?: string | undefined;
}

export interface RedactionSettings {
  readonly minLength: number | undefined;
}

const MAX_MIN_LENGTH = 4096;

/**
 * On with `--redact`, CREDEXEC_REDACT (`1`/`true` on, `0`/`false`/empty off) or a manifest's
 * `"$credexec": {"redact": true}`; undefined when off.
 */
export function redactionFrom(
  argv: RedactionArguments,
  env: CommandContext['env'],
  manifest: boolean | undefined = undefined,
): RedactionSettings | undefined {
  const fromEnv = (env.CREDEXEC_REDACT ?? '').trim().toLowerCase();
  if (!['', '0', '1', 'true', 'false'].includes(fromEnv)) {
    throw new UsageError('CREDEXEC_REDACT must be 1 (redact the output) or 0');
  }
  const on = argv.redact === true || fromEnv === '1' || fromEnv === 'true' || manifest === true;
  const text = argv.redactMinLength;
  if (text !== undefined && !on) {
    throw new UsageError(
      '--redact-min-length goes with --redact (or CREDEXEC_REDACT=1, or "redact": true in the manifest)',
    );
  }
  if (!on) return undefined;
  if (text === undefined) return { minLength: undefined };
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_MIN_LENGTH) {
    throw new UsageError(`--redact-min-length must be a whole number from 1 to ${MAX_MIN_LENGTH}`);
  }
  return { minLength: Number(text) };
}

/** The launcher's starter for `--redact`; the redaction code loads only then. */
export async function redactingStarterFor(
  settings: RedactionSettings,
  context: CommandContext,
  rotating = false,
): Promise<ChildStarter> {
  const { redactingStarter } = await import('../redact/redacting-starter.js');
  return redactingStarter({
    ...(settings.minLength === undefined ? {} : { minLength: settings.minLength }),
    rotating,
    stdout: () => context.io.stdout,
    stderr: () => context.io.stderr,
  });
}

/**
 * What `check --redact` adds below its table: which entries `run --redact` would leave alone and
 * why. Names only; the values are looked at (and the patterns made of them zeroed) in `inspect`.
 */
export async function redactionChecker(settings: RedactionSettings) {
  const { redactionReport } = await import('../redact/patterns.js');
  let lines: string[] = [];
  return {
    inspect(resolutions: readonly Resolution[]) {
      const report = redactionReport(
        resolutions.flatMap((resolution) =>
          resolution.status === 'resolved'
            ? [
                {
                  variable: resolution.entry.variable,
                  value: resolution.value,
                  redact: resolution.entry.redact !== false,
                },
              ]
            : [],
        ),
        settings.minLength === undefined ? {} : { minLength: settings.minLength },
      );
      lines = [
        ...report.tooShort.map(
          (variable) =>
            `${variable}: not redacted: shorter than ${report.minLength} bytes (--redact-min-length)`,
        ),
        ...report.optedOut.map((variable) => `${variable}: not redacted: "redact": false`),
        ...report.notEncoded.map(
          (variable) =>
            `${variable}: redacted as it is and line by line only: over 16 KiB, its encodings are not matched`,
        ),
      ];
      if (lines.length === 0) lines = ['redaction: every value is redacted'];
    },
    text: () => lines.map((line) => `${line}\n`).join(''),
  };
}
