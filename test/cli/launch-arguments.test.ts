import test from 'ava';
import { parseLaunchArguments } from '../../src/cli/launch-arguments.js';

test('the common launcher forms are parsed without yargs, options camel-cased', (t) => {
  t.deepEqual(parseLaunchArguments(['--', 'node', 'server.js', '--port', '8']), {
    '--': ['node', 'server.js', '--port', '8'],
  });
  t.deepEqual(
    parseLaunchArguments([
      'run',
      '-m',
      'a.env',
      '--manifest=b.json',
      '--context',
      'env=prod',
      '--allow-var',
      'PATH',
      '--pristine',
      '--backend',
      'local',
      '--local-dir',
      '/d',
      '--kms-region',
      'eu-west-1',
      '-t',
      'tbl',
      '--concurrency',
      '4',
      '--',
      'true',
    ]),
    {
      manifest: ['a.env', 'b.json'],
      context: ['env=prod'],
      allowVar: ['PATH'],
      pristine: true,
      backend: 'local',
      localDir: '/d',
      kmsRegion: 'eu-west-1',
      table: 'tbl',
      concurrency: '4',
      '--': ['true'],
    },
  );
});

test('anything else is left to the full CLI, which reports it the usual way', (t) => {
  for (const args of [
    ['run', 'node', 'x'],
    ['--help', '--', 'x'],
    ['--bogus', '--', 'x'],
    ['-m', 'a.env', 'b.env', '--', 'x'],
    ['check', '--', 'x'],
    ['get', 'name', '--', 'x'],
    ['--'],
    ['--pristine=yes', '--', 'x'],
    ['-m', '--', 'x'],
  ]) {
    t.is(parseLaunchArguments(args), undefined, args.join(' '));
  }
});
