import { COMMANDS, TOP_LEVEL, optionsOf, type CommandSpec } from './command-specs.js';
import type { OptionSpecs } from './option-specs.js';

/**
 * The shell completion script `credexec completion` prints, written from the command specs so it
 * offers exactly what the CLI accepts: subcommands, the options of the subcommand being typed,
 * the values of --backend, -f, -d and `completion`, files for -m and directories for --local-dir.
 *
 * Credential names are completed (for get, put and delete) only on the local backend, by running
 * `credexec keys` on the local store: on the aws backend a TAB would mean a DynamoDB call, with
 * its latency, its cost and maybe an MFA or SSO prompt, so it completes nothing there. The script
 * never fails: when credexec is not set up or not on PATH, it just offers no names.
 *
 * One bash function serves both shells: zsh runs it through its bash completion emulation
 * (bashcompinit), so it keeps to what that emulation provides (COMP_WORDS, COMP_CWORD, COMPREPLY,
 * compgen -c, `complete -o default`), filters compgen's words itself (zsh's does not), and checks
 * for compopt, which zsh lacks. Words from the store go through no expansion: a credential named
 * `$(cmd)` is offered as it is, never run (compgen -W would expand it).
 */

export type Shell = 'bash' | 'zsh';

const SAFE_WORD = /^[-\w.]+$/;

function wordList(words: readonly string[]): string {
  for (const word of words)
    if (!SAFE_WORD.test(word)) throw new Error(`completion word "${word}" needs quoting`);
  return words.join(' ');
}

/** Every flag `specs` accepts, and those that take a value. */
function flags(specs: OptionSpecs): { all: string[]; valued: string[] } {
  const all: string[] = [];
  const valued: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const names = spec.alias === undefined ? [`--${key}`] : [`-${spec.alias}`, `--${key}`];
    all.push(...names);
    if (spec.type !== 'boolean') valued.push(...names);
  }
  return { all, valued };
}

/** `case` arms setting the options of each command (and of the top level, `*`). */
function optionArms(commands: readonly CommandSpec[]): string {
  const arm = (pattern: string, command: CommandSpec) => {
    const { all, valued } = flags(optionsOf(command));
    return (
      `    ${pattern})\n` +
      `      flags='${wordList(all)}'\n` +
      `      valued=' ${wordList(valued)} ' ;;`
    );
  };
  return [...commands.map((command) => arm(command.name, command)), arm('*', TOP_LEVEL)].join('\n');
}

/** `case` arms completing the values of options with known ones. */
function valueArms(): string {
  const arms = new Map<string, string>();
  for (const command of [...COMMANDS, TOP_LEVEL]) {
    for (const [key, spec] of Object.entries(optionsOf(command))) {
      const values = spec.choices ?? spec.values;
      if (values === undefined) continue;
      const pattern = spec.alias === undefined ? `--${key}` : `-${spec.alias}|--${key}`;
      arms.set(pattern, `    ${pattern}) _credexec_add "$2" "$3" ${wordList(values)} ;;`);
    }
  }
  return [...arms.values()].join('\n');
}

/** Positional completions: `case $cmd:$npos` arms (npos: words between the command and this one). */
function positionalArms(): string {
  const commandNames = wordList(COMMANDS.map(({ name }) => name));
  const arms: string[] = [];
  for (const command of COMMANDS) {
    const first = command.positionals[0];
    if (first === undefined) continue;
    const action =
      first.choices !== undefined
        ? `_credexec_add "$cur" '' ${wordList(first.choices)}`
        : first.complete === 'credential'
          ? '_credexec_names'
          : first.complete === 'command'
            ? `_credexec_add "$cur" '' ${commandNames}`
            : first.complete === 'program'
              ? '_credexec_programs'
              : undefined;
    if (action !== undefined) arms.push(`    ${command.name}:0) ${action} ;;`);
  }
  // After `run CMD`, the program's own arguments: files, say.
  arms.push('    run:*) ;;', '    *) _credexec_nothing ;;');
  return arms.join('\n');
}

function bashFunctions(version: string): string {
  const commandNames = wordList(COMMANDS.map(({ name }) => name));
  return `# credexec ${version}: completion of subcommands, options, option values and, for the
# local backend only, credential names (by running \`credexec keys\`; never on aws, where
# a TAB would be a DynamoDB call).

# Add the words $3… that start with $1 to COMPREPLY, each with the prefix $2.
_credexec_add() {
  local cur=$1 prefix=$2 word
  shift 2
  for word in "$@"; do
    [[ $word == "$cur"* ]] && COMPREPLY+=("$prefix$word")
  done
  return 0
}

# No file names as a fallback here (bash only: zsh has no compopt).
_credexec_nothing() {
  type compopt >/dev/null 2>&1 && compopt +o default 2>/dev/null
  return 0
}

# Set flags (every option of command $1) and valued (those taking a value, space-delimited).
_credexec_options() {
  case $1 in
${optionArms(COMMANDS)}
  esac
}

# Complete the value $2 of option $1, each reply prefixed with $3.
_credexec_values() {
  case $1 in
${valueArms()}
    -m|--manifest|--local-dir) ;;
    *) _credexec_nothing ;;
  esac
}

# Programs to run, as compgen -c lists them (zsh's emulation lists all of them: filter here).
_credexec_programs() {
  local word
  while IFS= read -r word; do
    [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
  done < <(compgen -c -- "$cur")
  return 0
}

# Credential names, from the local backend only, read with \`credexec keys\`; nothing on failure.
_credexec_names() {
  [[ $backend == local ]] || { _credexec_nothing; return 0; }
  local -a args=(--backend local)
  [[ -n $dir ]] && args+=(--local-dir "\${dir/#\\~/$HOME}")
  [[ -n $table ]] && args+=(--table "$table")
  local name
  while IFS= read -r name; do
    [[ -n $name && $name == "$cur"* ]] && COMPREPLY+=("$name")
  done < <(command credexec "\${args[@]}" keys 2>/dev/null </dev/null)
  return 0
}

_credexec() {
  local cur=\${COMP_WORDS[COMP_CWORD]-} word pending= cmd= npos=0 i
  local backend=\${CREDEXEC_BACKEND-} dir= table= flags= valued=
  COMPREPLY=()
  _credexec_options ''
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word=\${COMP_WORDS[i]-}
    if [[ -n $pending ]]; then
      # bash splits --opt=value into --opt, =, value.
      [[ $word == = ]] && continue
      if [[ $word != -* ]]; then
        case $pending in
          --backend) backend=$word ;;
          --local-dir) dir=$word ;;
          -t|--table) table=$word ;;
        esac
        pending=
        continue
      fi
      pending=
    fi
    case $word in
      --)
        # After --, the program and its arguments.
        (( i == COMP_CWORD - 1 )) && _credexec_programs
        return 0 ;;
      --*=*)
        case \${word%%=*} in
          --backend) backend=\${word#*=} ;;
          --local-dir) dir=\${word#*=} ;;
          --table) table=\${word#*=} ;;
        esac ;;
      -*) [[ $valued == *" $word "* ]] && pending=$word ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=$word
          _credexec_options "$cmd"
        else
          npos=$((npos + 1))
        fi ;;
    esac
  done

  # The value of an option: after it, after "--opt=" (split by bash), or inside "--opt=val".
  if [[ $cur == = && $valued == *" \${COMP_WORDS[COMP_CWORD-1]-} "* ]]; then
    _credexec_values "\${COMP_WORDS[COMP_CWORD-1]}" '' ''
    return 0
  fi
  if [[ -n $pending ]]; then
    _credexec_values "$pending" "$cur" ''
    return 0
  fi
  if [[ $cur == -*=* ]]; then
    _credexec_values "\${cur%%=*}" "\${cur#*=}" "\${cur%%=*}="
    return 0
  fi
  if [[ $cur == -* ]]; then
    _credexec_add "$cur" '' $flags
    return 0
  fi
  if [[ -z $cmd ]]; then
    _credexec_add "$cur" '' ${commandNames}
    return 0
  fi
  case $cmd:$npos in
${positionalArms()}
  esac
  return 0
}`;
}

export function completionScript(shell: Shell, version: string): string {
  const body = bashFunctions(version);
  if (shell === 'bash') {
    return (
      '# bash completion for credexec. Load it from ~/.bashrc:\n' +
      '#   source <(credexec completion)\n' +
      `${body}\n\ncomplete -o default -F _credexec credexec\n`
    );
  }
  return (
    "# zsh completion for credexec, through zsh's bash completion emulation. Load it from\n" +
    '# ~/.zshrc (after compinit, if you call it yourself):\n' +
    '#   source <(credexec completion zsh)\n' +
    '(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n' +
    'autoload -U +X bashcompinit && bashcompinit\n\n' +
    `${body}\n\ncomplete -o default -F _credexec credexec\n`
  );
}
