// Shell completion scripts for bash, zsh and fish, generated from the
// option table of main.ts so that they list every command and option. Site
// names come from `ffvm sites --names` when the completion runs, with the
// --config of the command line being completed.

export interface CommandLineSpec {
  /** Options by long name; `string` options take a value. */
  options: Readonly<Record<string, { type: "string" | "boolean"; short?: string }>>;
  /** Options each command accepts besides --config and --state-dir. */
  commands: Readonly<Record<string, readonly string[]>>;
}

export const shells = ["bash", "zsh", "fish"] as const;

export type Shell = (typeof shells)[number];

/** Commands the completion does not offer: helpers for scripts such as the completion itself. */
const hiddenCommands = new Set(["sites"]);

/** Commands whose one argument is a site name. */
const siteCommands = ["open", "stop", "logs"];

/** Fixed words a command takes as its first argument. */
const commandWords: Record<string, readonly string[]> = {
  handler: ["install", "uninstall"],
  service: ["install", "uninstall"],
  completion: ["bash", "zsh", "fish"],
};

const commandSummaries: Record<string, string> = {
  reconcile: "make disks and VMs match sites.yaml",
  validate: "check sites.yaml",
  status: "list sites and orphans with state, memory, disk and uptime",
  open: "open a site, or a URL in the VM of its site",
  stop: "power off the VM of a site",
  logs: "print the QEMU and serial logs of a VM",
  watch: "keep reconciling as sites.yaml changes",
  service: "install or remove the systemd user unit of ffvm watch",
  handler: "install or remove the desktop entry for http and https links",
  completion: "print a shell completion script",
};

const optionSummaries: Record<string, string> = {
  config: "sites.yaml to read",
  "state-dir": "state directory",
  "dry-run": "print the plan and change nothing",
  json: "print JSON",
  force: "allow trashing more than half of the disks",
  "detailed-exitcode": "exit 2 when there are changes",
  "no-wait": "fail at once if the state lock is held",
  "no-restart": "report outdated VMs instead of restarting them",
  jobs: "VMs started or stopped at once",
  follow: "keep printing new lines until Ctrl-C",
  lines: "lines printed from the end of each log",
  names: "print only the site names",
  "heal-schedule": "cron expression of heal reconciles",
  "trash-retention": "days trashed disks are kept",
  "restart-outdated": "restart VMs whose settings or image changed",
  "retry-delay": "seconds before the start after a second crash",
  "max-crashes": "crashes within the window before giving up",
  "crash-window": "minutes crashes count for",
  help: "show help",
  version: "print the version",
};

const commonOptions = ["config", "state-dir", "help"];

/** Returns the completion script for a shell. */
export const renderCompletion = (shell: Shell, spec: CommandLineSpec): string => {
  switch (shell) {
    case "bash":
      return renderBash(spec);
    case "zsh":
      return renderZsh(spec);
    case "fish":
      return renderFish(spec);
  }
};

const visibleCommands = (spec: CommandLineSpec): string[] => Object.keys(spec.commands).filter((command) => !hiddenCommands.has(command));

const optionsOf = (spec: CommandLineSpec, command: string): string[] => [...(spec.commands[command] ?? []), ...commonOptions];

const valueOptions = (spec: CommandLineSpec): string[] => Object.keys(spec.options).filter((name) => spec.options[name]!.type === "string");

// Quotes text for a single-quoted shell string (bash, zsh and fish alike).
const singleQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

const renderBash = (spec: CommandLineSpec): string => {
  const values = valueOptions(spec);
  const valuePattern = values.map((name) => `--${name}`).join("|");
  const shortValues = values.map((name) => spec.options[name]!.short).filter((short) => short !== undefined).map((short) => `-${short}`);
  const skipPattern = [valuePattern, ...shortValues].join("|");
  const perCommand = Object.keys(spec.commands)
    .map((command) => `    ${command}) options=${singleQuote(optionsOf(spec, command).map((name) => `--${name}`).join(" "))} ;;`)
    .join("\n");
  const words = Object.entries(commandWords)
    .map(([command, list]) => `      ${command}) COMPREPLY=($(compgen -W ${singleQuote(list.join(" "))} -- "$cur")) ;;`)
    .join("\n");
  return `# bash completion for ffvm. Load it with:
#   source <(ffvm completion bash)
# or save it as ~/.local/share/bash-completion/completions/ffvm

# Prints the site names of the sites.yaml named by --config on the command line.
_ffvm_sites() {
  local i config=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --config) config=(--config "\${COMP_WORDS[i + 1]}") ;;
      --config=*) config=(--config "\${COMP_WORDS[i]#--config=}") ;;
    esac
  done
  ffvm sites --names "\${config[@]}" 2>/dev/null
}

_ffvm() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
  local i command="" arguments=0 options
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      ${skipPattern}) ((i++)) ;;
      -*) ;;
      *)
        if [[ -z $command ]]; then command=\${COMP_WORDS[i]}; else ((arguments++)); fi
        ;;
    esac
  done

  case $prev in
    --config) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --state-dir) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    ${[valuePattern, ...shortValues].filter((pattern) => pattern !== "").join("|")}) return ;;
  esac

  if [[ -z $command ]]; then
    COMPREPLY=($(compgen -W ${singleQuote([...visibleCommands(spec), "--help", "--version"].join(" "))} -- "$cur"))
    return
  fi
  case $command in
${perCommand}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
    return
  fi
  ((arguments == 0)) || return
  case $command in
    ${siteCommands.join("|")}) COMPREPLY=($(compgen -W "$(_ffvm_sites)" -- "$cur")) ;;
${words}
  esac
}

complete -F _ffvm ffvm
`;
};

const zshOption = (spec: CommandLineSpec, name: string): string => {
  const summary = (optionSummaries[name] ?? name).replace(/[[\]:]/g, "");
  const option = spec.options[name];
  const names = option?.short === undefined ? `--${name}` : `{-${option.short},--${name}}`;
  const exclusive = option?.short === undefined ? "" : `'(-${option.short} --${name})'`;
  if (option?.type !== "string") return `${exclusive}${names}'[${summary}]'`;
  const actions: Record<string, string> = { config: "_files", "state-dir": "_directories" };
  const action = actions[name] ?? " ";
  return `${exclusive}${names}'=[${summary}]:${name}:${action}'`;
};

const renderZsh = (spec: CommandLineSpec): string => {
  const commandList = visibleCommands(spec)
    .map((command) => `    ${singleQuote(`${command}:${commandSummaries[command] ?? command}`)}`)
    .join("\n");
  const perCommand = Object.keys(spec.commands)
    .map((command) => {
      const options = optionsOf(spec, command).map((name) => `        ${zshOption(spec, name)}`);
      let argument = "";
      if (siteCommands.includes(command)) argument = "        '1:site:_ffvm_sites'";
      else if (commandWords[command] !== undefined) argument = `        '1:action:(${commandWords[command]!.join(" ")})'`;
      return `    (${command})\n      _arguments -s \\\n${[...options, argument].filter((line) => line !== "").join(" \\\n")}\n      ;;`;
    })
    .join("\n");
  return `#compdef ffvm
# zsh completion for ffvm. Load it with:
#   source <(ffvm completion zsh)
# or save it as _ffvm in a directory of $fpath.

# Completes the site names of the sites.yaml named by --config on the command line.
_ffvm_sites() {
  local -a sites config
  local i
  # --config before the command is in _ffvm_config, after it in words.
  [[ -n $_ffvm_config ]] && config=(--config "$_ffvm_config")
  for (( i = 1; i < CURRENT; i++ )); do
    [[ \${words[i]} == --config ]] && config=(--config "\${words[i + 1]}")
    [[ \${words[i]} == --config=* ]] && config=(--config "\${words[i]#--config=}")
  done
  sites=(\${(f)"$(_call_program sites ffvm sites --names "\${config[@]}" 2>/dev/null)"})
  _describe -t sites site sites
}

_ffvm() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
${commandList}
  )
  local -A opt_args
  local _ffvm_config
  _arguments -C \\
    '(- *)'{-h,--help}'[show help]' \\
    '(- *)'{-V,--version}'[print the version]' \\
    ${zshOption(spec, "config")} \\
    ${zshOption(spec, "state-dir")} \\
    '1:command:->command' \\
    '*::argument:->argument'
  _ffvm_config=\${opt_args[--config]}
  case $state in
    (command)
      _describe -t commands 'ffvm command' commands
      ;;
    (argument)
      case \${words[1]} in
${perCommand}
      esac
      ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _ffvm "$@"
else
  compdef _ffvm ffvm
fi
`;
};

const renderFish = (spec: CommandLineSpec): string => {
  const values = valueOptions(spec);
  const lines: string[] = [
    "# fish completion for ffvm. Load it with:",
    "#   ffvm completion fish | source",
    "# or save it as ~/.config/fish/completions/ffvm.fish",
    "",
    "# Prints the command (first word that is not an option or an option's value).",
    "function __ffvm_command",
    "    set -l tokens (commandline -opc)",
    "    set -e tokens[1]",
    "    set -l skip 0",
    "    for token in $tokens",
    "        if test $skip = 1",
    "            set skip 0",
    "            continue",
    "        end",
    "        switch $token",
    `            case ${values.map((name) => `--${name}`).join(" ")}`,
    "                set skip 1",
    "            case '-*'",
    "            case '*'",
    "                echo $token",
    "                return 0",
    "        end",
    "    end",
    "    return 1",
    "end",
    "",
    "# Prints the site names of the sites.yaml named by --config on the command line.",
    "function __ffvm_sites",
    "    set -l tokens (commandline -opc)",
    "    set -l config",
    "    for i in (seq (count $tokens))",
    "        if test \"$tokens[$i]\" = --config; and test $i -lt (count $tokens)",
    "            set config --config $tokens[(math $i + 1)]",
    "        end",
    "    end",
    "    ffvm sites --names $config 2>/dev/null",
    "end",
    "",
    "complete -c ffvm -f",
    "complete -c ffvm -n 'not __ffvm_command' -s h -l help -d 'show help'",
    "complete -c ffvm -n 'not __ffvm_command' -s V -l version -d 'print the version'",
  ];
  for (const command of visibleCommands(spec)) {
    lines.push(`complete -c ffvm -n 'not __ffvm_command' -a ${command} -d ${singleQuote(commandSummaries[command] ?? command)}`);
  }
  for (const command of Object.keys(spec.commands)) {
    const when = `-n ${singleQuote(`test "$(__ffvm_command)" = ${command}`)}`;
    for (const name of optionsOf(spec, command)) {
      const option = spec.options[name];
      const short = option?.short === undefined ? "" : ` -s ${option.short}`;
      let value = "";
      const valueFlags: Record<string, string> = { config: " -r -F", "state-dir": " -r -a '(__fish_complete_directories)'" };
      if (option?.type === "string") value = valueFlags[name] ?? " -x";
      lines.push(`complete -c ffvm ${when}${short} -l ${name}${value} -d ${singleQuote(optionSummaries[name] ?? name)}`);
    }
    if (siteCommands.includes(command)) lines.push(`complete -c ffvm ${when} -a '(__ffvm_sites)'`);
    const words = commandWords[command];
    if (words !== undefined) lines.push(`complete -c ffvm ${when} -a ${singleQuote(words.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
};
