import test from 'ava';
import { COMMANDS, TOP_LEVEL, optionsOf, yargsCommand } from '../../src/cli/command-specs.js';
import { completionScript } from '../../src/cli/completion.js';

test('a short option means the same long option, of the same kind, in every command', (t) => {
  const meaning = new Map<string, string>();
  for (const command of [...COMMANDS, TOP_LEVEL]) {
    for (const [key, spec] of Object.entries(optionsOf(command))) {
      if (spec.alias === undefined) continue;
      const here = `--${key} (${spec.type})`;
      const seen = meaning.get(spec.alias);
      t.true(seen === undefined || seen === here, `-${spec.alias}: ${seen} and ${here}`);
      meaning.set(spec.alias, here);
    }
  }
  t.is(meaning.get('f'), '--format (string)');
});

test('yargs command strings come from the positional specs', (t) => {
  const commands = Object.fromEntries(COMMANDS.map((spec) => [spec.name, yargsCommand(spec)]));
  t.is(commands.get, 'get <name> [context..]');
  t.is(commands.put, 'put <name> [value] [context..]');
  t.is(commands.run, 'run [command..]');
  t.is(commands.completion, 'completion [shell]');
  t.is(commands.list, 'list');
});

test('both completion scripts are written from the specs without a word needing quotes', (t) => {
  for (const shell of ['bash', 'zsh'] as const) {
    const script = completionScript(shell, '1.2.3');
    t.true(script.includes('credexec 1.2.3'));
    t.true(script.endsWith('complete -o default -F _credexec credexec\n'));
    for (const command of COMMANDS) t.true(script.includes(`    ${command.name})\n`), command.name);
  }
});
