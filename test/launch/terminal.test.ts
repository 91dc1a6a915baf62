import test from 'ava';
import {
  isForegroundProcessGroup,
  parseProcStat,
  terminalAlreadyDelivers,
} from '../../src/launch/terminal.js';

test('pgrp and tpgid are read after the command name, which may contain spaces and parentheses', (t) => {
  t.deepEqual(parseProcStat('4242 (my (odd) app) S 1 4242 4242 34816 4242 4194560 0 0'), {
    pgrp: 4242,
    tpgid: 4242,
  });
  t.deepEqual(parseProcStat('7 (node) S 6 7 6 0 -1 4194304'), { pgrp: 7, tpgid: -1 });
});

test('a process is in the foreground when its group is the terminal foreground group', (t) => {
  t.true(isForegroundProcessGroup(() => '10 (node) S 9 10 9 34816 10 0'));
  t.false(isForegroundProcessGroup(() => '10 (node) S 9 10 9 34816 12 0'));
  t.false(isForegroundProcessGroup(() => '10 (node) S 9 10 9 0 -1 0'));
  t.is(
    isForegroundProcessGroup(() => {
      throw new Error('no /proc');
    }),
    undefined,
  );
});

test('SIGINT and SIGQUIT come from the terminal only with a TTY stdin in the foreground', (t) => {
  t.true(terminalAlreadyDelivers(true, true));
  t.true(terminalAlreadyDelivers(true, undefined), 'unknown foreground falls back to the TTY test');
  t.false(terminalAlreadyDelivers(true, false));
  t.false(terminalAlreadyDelivers(false, true));
  t.false(terminalAlreadyDelivers(false, undefined));
});
