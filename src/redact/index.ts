/**
 * Redaction of a child's output (`credexec --redact`): secret values, and the forms in which they
 * leak, replaced by `<redacted:VARIABLE>` in a stream of bytes. docs/launcher.md ("Redaction")
 * says what is caught and what is not.
 */
export {
  DEFAULT_MIN_LENGTH,
  redactionPatterns,
  redactionReport,
  type Pattern,
  type PatternSet,
  type RedactSecret,
  type RedactionOptions,
  type RedactionReport,
} from './patterns.js';
export { compileRedaction, Redaction, MAX_SHORT_PATTERNS } from './redaction.js';
export { Redactor, redactAll, type Output } from './redactor.js';
export {
  DEFAULT_IDLE_MS,
  RedactStream,
  pipeRedacted,
  redactChildOutput,
  type ChildOutputRedaction,
  type RedactStreamOptions,
} from './redact-stream.js';
