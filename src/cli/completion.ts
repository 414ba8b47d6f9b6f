// netlab completion bash|zsh|fish: a completion script made from commander's command tree, so it
// cannot fall behind the commands and options. Pure: the tree in, the script out.
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface OptionSpec {
  long?: string;
  short?: string;
  description: string;
  takesValue: boolean;
  choices?: readonly string[];
}

interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
}

function optionSpec(option: Option): OptionSpec {
  return {
    long: option.long,
    short: option.short,
    description: option.description,
    takesValue: option.required || option.optional,
    choices: option.argChoices,
  };
}

/** The commands, their options and the program's own (--no-color, --help). */
export function commandTree(program: Command): { global: OptionSpec[]; commands: CommandSpec[] } {
  const help = { long: '--help', short: '-h', description: 'display help', takesValue: false };
  return {
    global: [...program.options.map(optionSpec), help],
    commands: program.commands.map((c) => ({ name: c.name(), description: c.description(), options: [...c.options.map(optionSpec), help] })),
  };
}

/** Single-quoted for sh, bash, zsh and fish alike. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function flags(options: readonly OptionSpec[]): string {
  return options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)).join(' ');
}

function bash(tree: ReturnType<typeof commandTree>): string {
  const cases = tree.commands.map((c) => {
    const choices = c.options.filter((o) => o.choices).map((o) => `      ${[o.long, o.short].filter(Boolean).join('|')}) COMPREPLY=($(compgen -W ${quote(o.choices!.join(' '))} -- "$cur")); return ;;`);
    return [`    ${c.name})`, `      case "$prev" in`, ...choices.map((l) => `  ${l}`), '      esac', `      opts=${quote(`${flags(c.options)} ${flags(tree.global)}`)} ;;`].join('\n');
  });
  return `# netlab completion for bash: source <(netlab completion bash)
_netlab() {
  local cur prev cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${quote(`${tree.commands.map((c) => c.name).join(' ')} ${flags(tree.global)}`)} -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _netlab netlab
`;
}

function zshOption(o: OptionSpec): string[] {
  const value = o.takesValue ? (o.choices ? `:value:(${o.choices.join(' ')})` : ':value:') : '';
  const text = o.description.replace(/[[\]:]/g, ' ');
  return [o.long, o.short].filter((f): f is string => f !== undefined).map((f) => quote(`${f}[${text}]${value}`));
}

function zsh(tree: ReturnType<typeof commandTree>): string {
  const described = tree.commands.map((c) => `    ${quote(`${c.name}:${c.description.replace(/:/g, ' ')}`)}`);
  const cases = tree.commands.map((c) => `    ${c.name}) _arguments ${[...c.options, ...tree.global].flatMap(zshOption).join(' ')} '*:file:_files' ;;`);
  return `#compdef netlab
# netlab completion for zsh: source <(netlab completion zsh), or save it as _netlab in $fpath
_netlab() {
  local -a commands
  commands=(
${described.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${cases.join('\n')}
  esac
}
compdef _netlab netlab
`;
}

function fish(tree: ReturnType<typeof commandTree>): string {
  const lines = ['# netlab completion for fish: netlab completion fish | source', 'complete -c netlab -f'];
  for (const c of tree.commands) lines.push(`complete -c netlab -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
  const option = (o: OptionSpec, condition: string) => {
    const parts = ['complete -c netlab', condition];
    if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
    if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
    if (o.takesValue) parts.push(o.choices ? `-x -a ${quote(o.choices.join(' '))}` : '-r');
    parts.push(`-d ${quote(o.description)}`);
    return parts.join(' ');
  };
  for (const o of tree.global) lines.push(option(o, ''));
  for (const c of tree.commands) {
    for (const o of c.options) lines.push(option(o, `-n ${quote(`__fish_seen_subcommand_from ${c.name}`)}`));
    if (c.name !== 'ls' && c.name !== 'completion' && c.name !== 'version' && c.name !== 'schema') {
      lines.push(`complete -c netlab -n ${quote(`__fish_seen_subcommand_from ${c.name}`)} -F`);
    }
  }
  return `${lines.join('\n').replace(/ {2,}/g, ' ')}\n`;
}

export function completionScript(shell: Shell, program: Command): string {
  const tree = commandTree(program);
  return shell === 'bash' ? bash(tree) : shell === 'zsh' ? zsh(tree) : fish(tree);
}
