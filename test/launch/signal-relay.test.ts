import { EventEmitter } from 'node:events';
import test from 'ava';
import {
  FORWARDED_SIGNALS,
  SignalRelay,
  asksToStop,
  stopsResolution,
  type ForwardedSignal,
} from '../../src/launch/signal-relay.js';
import { signalExitCode } from '../../src/launch/die-of-signal.js';

test('the relay listens to every forwarded signal, hands each to the current handler, and unhooks', (t) => {
  const source = new EventEmitter();
  const seen: string[] = [];
  const relay = new SignalRelay(source, (signal) => seen.push(`first ${signal}`));
  t.deepEqual(
    FORWARDED_SIGNALS.map((signal) => source.listenerCount(signal)),
    [1, 1, 1, 1, 1, 1, 1],
  );
  source.emit('SIGTERM');
  relay.setHandler((signal: ForwardedSignal) => seen.push(`second ${signal}`));
  source.emit('SIGUSR1');
  relay.close();
  source.emit('SIGHUP');
  t.deepEqual(seen, ['first SIGTERM', 'second SIGUSR1']);
  t.deepEqual(
    FORWARDED_SIGNALS.map((signal) => source.listenerCount(signal)),
    [0, 0, 0, 0, 0, 0, 0],
  );
});

test('only SIGWINCH lets resolution continue; only INT, TERM and QUIT remove secret files early', (t) => {
  t.deepEqual(
    FORWARDED_SIGNALS.filter((signal) => !stopsResolution(signal)),
    ['SIGWINCH'],
  );
  t.deepEqual(FORWARDED_SIGNALS.filter(asksToStop), ['SIGINT', 'SIGTERM', 'SIGQUIT']);
});

test('a signal maps to 128 plus its number', (t) => {
  t.is(signalExitCode('SIGKILL'), 137);
  t.is(signalExitCode('SIGTERM'), 143);
  t.is(signalExitCode('SIGINT'), 130);
});
