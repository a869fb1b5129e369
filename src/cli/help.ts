// Help text of every command: what each option sets, its unit and an example.

export const version = "0.1.0";

// --config and --state-dir, with their text from `column` on, as the other options of a command.
const common = (column = 21): string =>
  [
    ["--config FILE", "sites.yaml to read (default: ./sites.yaml if present,", "else $XDG_CONFIG_HOME/ffvm/sites.yaml)"],
    ["--state-dir DIR", "where disks, VM records and the image link live", "(default: stateDir in sites.yaml, else $XDG_STATE_HOME/ffvm)"],
  ]
    .map(([option, first, second]) => `${`  ${option}`.padEnd(column)}${first}\n${" ".repeat(column)}${second}`)
    .join("\n");

export const helpTexts: Record<string, string> = {
  main: `ffvm ${version}: one Firefox virtual machine per website, reconciled from sites.yaml

Usage: ffvm <command> [options]

Commands:
  reconcile   make disks and VMs match sites.yaml (--dry-run to preview)
  validate    check sites.yaml and report every error with file:line:col
  status      list sites and orphans with state, memory, disk and uptime
  open SITE   start the VM of a site that is not pinned
  open URL    open a link in its site's VM, or in a disposable VM
  stop SITE   power off the VM of a site
  logs SITE   print a VM's QEMU and serial console logs (--follow)
  watch       keep reconciling: at start, on every save, on a heal schedule
  service     install or uninstall the systemd user unit that runs watch
  handler     install or uninstall the desktop entry for http(s) links
  completion  print a bash, zsh or fish completion script

Run 'ffvm <command> --help' for the options of a command.
Examples:
  ffvm reconcile --dry-run --config sites.example.yaml
  ffvm open bank
  ffvm open https://github.com/nixos/nixpkgs`,

  reconcile: `Usage: ffvm reconcile [options]

Diffs sites.yaml against the disks and running VMs, then builds the image if
its source changed, creates and grows disks, starts pinned VMs, restarts
outdated ones and moves the disks of removed sites to trash.

Options:
  --dry-run            print the plan and change nothing
  --json               print the plan and results as JSON (formatVersion 1)
  --force              allow moving more than half of the disks to trash at once
  --detailed-exitcode  exit 0 without changes, 2 with changes, 1 on error
  --no-wait            fail at once if another ffvm holds the state lock
  --no-restart         report outdated VMs instead of restarting them
  --stop-timeout SECONDS  how long a guest may take to power off after the
                       ACPI power button before QMP quit (default: 30)
  --jobs N             VMs started or stopped at once (default: 2)
${common(23)}

Examples:
  ffvm reconcile --dry-run
  ffvm reconcile --config ~/dotfiles/sites.yaml --detailed-exitcode`,

  validate: `Usage: ffvm validate [options]

Checks sites.yaml against the schema and the rules between fields (a vpn must
be listed under vpns:, style and add-on files must exist). Prints every
problem as file:line:col: key: message; fix, and exits 1 if any is an error.

Options:
${common()}

Example:
  ffvm validate --config sites.example.yaml`,

  status: `Usage: ffvm status [options]

Lists every site and every orphan (a disk or VM of a site no longer listed)
with its state (running, stopped, outdated, orphan, or failing: a pinned site
in the crash backoff of ffvm watch), pin, resident/configured memory in MiB,
disk size and uptime.
Disposable VMs of 'ffvm open URL' follow the sites. A site that sites.yaml
lists for other machines (hosts:) shows as other-host while this machine
still has its disk or VM. DISK is allocated/virtual size (K, M, G, T are
powers of 1024). Colour only on a terminal and without NO_COLOR.

Options:
  --json             print the status as JSON (formatVersion 1)
${common()}

Example:
  ffvm status --json`,

  open: `Usage: ffvm open SITE|URL [options]

With a SITE of sites.yaml, starts its VM, creating its disk first if needed.
Pinned sites start on every reconcile; other sites start only through this.

With a URL (http or https, with its scheme), opens the link in the site it
belongs to: the site whose url has the link's host, or whose match: patterns
list it; the most specific match wins. A running VM gets the link on its
open port; a stopped one starts with the link as its first page, without
becoming outdated. A link of no site opens in a new disposable VM
(disposable-1, disposable-2, ...) with the settings of defaults: and a disk
that is thrown away when the VM stops.

Options:
  --no-wait          fail at once if another ffvm holds the state lock
${common()}

Examples:
  ffvm open bank
  ffvm open https://github.com/nixos/nixpkgs/pulls`,

  stop: `Usage: ffvm stop SITE [options]

Powers off the VM of SITE: the ACPI power button, then QMP quit after the
timeout, then signals. A pinned site starts again on the next reconcile.
SITE may be a disposable VM of 'ffvm open URL', such as disposable-1; its
disk and logs are then thrown away.

Options:
  --no-wait          fail at once if another ffvm holds the state lock
  --stop-timeout SECONDS  how long the guest may take to power off after the
                     ACPI power button before QMP quit (default: 30)
${common()}

Example:
  ffvm stop bank`,

  watch: `Usage: ffvm watch [options]

Runs until SIGTERM or SIGINT and reconciles: once at start, so pinned VMs come
up at login; about 150 ms after each save of sites.yaml or of a file it names
(style, .xpi add-on, WireGuard config, runner, image flake); on the heal
schedule; after a suspend; and when a scheduled reset falls due. An invalid
sites.yaml is reported once and the last valid version stays in effect.
Outdated VMs are reported, not restarted, unless --restart-outdated is given.
A pinned VM that dies is noticed at the next heal (or save, or SIGHUP) and
started again; after a second crash the restart waits --retry-delay, doubling
with each crash, and after --max-crashes within --crash-window it stays
stopped and ffvm status shows it as failing. SIGHUP reconciles at once.
Stopping ffvm watch leaves the VMs running.

Options:
  --heal-schedule CRON   when to reconcile to heal drift, in node-cron syntax
                         (minute hour day month weekday, optional seconds
                         first; default: "*/5 * * * *", every 5 minutes)
  --trash-retention DAYS purge trashed disks older than this (default: 7)
  --restart-outdated     restart VMs whose settings or image changed
  --retry-delay SECONDS  wait before the start after a second crash; doubles
                         with each further crash, up to 10 minutes (default: 10)
  --max-crashes N        crashes within the window before giving up (default: 5)
  --crash-window MINUTES how far back crashes count (default: 60)
  --jobs N               VMs started or stopped at once (default: 2)
${common(25)}

Examples:
  ffvm watch --config ~/dotfiles/sites.yaml
  ffvm watch --heal-schedule "*/2 * * * *" --trash-retention 30`,

  service: `Usage: ffvm service install|uninstall [options]

install writes the systemd user unit $XDG_CONFIG_HOME/systemd/user/ffvm.service
(default ~/.config/systemd/user/ffvm.service). It runs ffvm watch with the
graphical session, with the absolute paths of node, ffvm and sites.yaml, the
options given here and the current PATH, and KillMode=process, so that
stopping the service leaves the VMs running. It prints the systemctl commands
to enable it and never runs systemctl itself. uninstall removes the unit and
the links that enabling it made.

Options:
  the options of ffvm watch, written into the unit's ExecStart= line
${common()}

Examples:
  ffvm service install --config ~/dotfiles/sites.yaml
  ffvm service uninstall`,

  logs: `Usage: ffvm logs SITE [options]

Prints the end of the QEMU log and of the serial console log of SITE's VM,
from <state>/run/SITE/qemu.log and serial.log, each under a ==> FILE <==
header. Control characters, escape sequences among them, are printed as
\\xNN and bidirectional formatting as \\u{NNNN}, so a log cannot drive the
terminal. SITE may also be an orphan or a running disposable VM.

Options:
  -f, --follow       keep printing lines as they are written, also after the
                     VM restarts and the log is replaced, until Ctrl-C
  -n, --lines N      lines printed from the end of each log first, 0 to
                     100000 (default: 50)
${common()}

Examples:
  ffvm logs bank
  ffvm logs bank --follow --lines 0`,

  handler: `Usage: ffvm handler install|uninstall [options]

install writes the desktop entry $XDG_DATA_HOME/applications/ffvm.desktop
(default ~/.local/share/applications/ffvm.desktop), a handler of http and
https links that runs 'ffvm open URL' with the absolute paths of node, ffvm
and sites.yaml. It prints the xdg-settings and xdg-mime commands that make
it the default browser, and runs neither. uninstall removes the entry.

Options:
  --config FILE      sites.yaml the handler reads, written into the entry
                     (default: ./sites.yaml if present, else
                     $XDG_CONFIG_HOME/ffvm/sites.yaml)
  --state-dir DIR    state directory written into the entry (default: none,
                     so stateDir in sites.yaml, else $XDG_STATE_HOME/ffvm)

Examples:
  ffvm handler install --config ~/dotfiles/sites.yaml
  ffvm handler uninstall`,

  completion: `Usage: ffvm completion bash|zsh|fish

Prints a completion script that completes commands, options and the site
names of the sites.yaml given with --config on the command line (else the
default one), which it reads through 'ffvm sites --names'.

Examples:
  source <(ffvm completion bash)       # in ~/.bashrc
  ffvm completion zsh > ~/.zfunc/_ffvm  # with ~/.zfunc in $fpath
  ffvm completion fish > ~/.config/fish/completions/ffvm.fish`,

  sites: `Usage: ffvm sites --names [options]

Prints the name of each site in sites.yaml, one per line, for the completion
scripts.

Options:
  --names            print only the names (the only output there is)
${common()}

Example:
  ffvm sites --names --config sites.example.yaml`,
};
