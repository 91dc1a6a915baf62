import test from 'ava';
import { auditTargetFrom } from '../../src/cli/commands/run.js';
import { STDIN_ARGUMENT } from '../../src/cli/io.js';
import { parseLaunchArguments } from '../../src/cli/launch-arguments.js';
import { UsageError } from '../../src/errors.js';

test('--audit-log wins over CREDEXEC_AUDIT_LOG, and an empty variable keeps no log', (t) => {
  t.is(auditTargetFrom(undefined, undefined), undefined);
  t.is(auditTargetFrom(undefined, ''), undefined);
  t.is(auditTargetFrom(undefined, '/var/log/a.log'), '/var/log/a.log');
  t.is(auditTargetFrom('/tmp/b.log', '/var/log/a.log'), '/tmp/b.log');
  t.is(auditTargetFrom('-', '/var/log/a.log'), '-');
});

test("yargs' marker for a bare - is standard error, and an empty --audit-log is a usage error", (t) => {
  t.is(auditTargetFrom(STDIN_ARGUMENT, undefined), '-');
  t.throws(() => auditTargetFrom('', '/var/log/a.log'), {
    instanceOf: UsageError,
    message: '--audit-log needs a PATH, or - for standard error',
  });
});

test('the fast path takes --audit-log with a path or -', (t) => {
  t.deepEqual(parseLaunchArguments(['--audit-log', '-', '--', 'true']), {
    auditLog: '-',
    '--': ['true'],
  });
  t.deepEqual(parseLaunchArguments(['run', '--audit-log=/var/log/a.log', '--', 'true']), {
    auditLog: '/var/log/a.log',
    '--': ['true'],
  });
});
