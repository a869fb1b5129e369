// Help text of every command: what each option sets, its unit and an example.

export const version = "0.1.0";

const common = `  --config FILE      sites.yaml to read (default: ./sites.yaml if present,
                     else $XDG_CONFIG_HOME/ffvm/sites.yaml)
  --state-dir DIR    where disks, VM records and the image link live
                     (default: stateDir in sites.yaml, else $XDG_STATE_HOME/ffvm)`;

export const helpTexts: Record<string, string> = {
  main: `ffvm ${version}: one Firefox virtual machine per website, reconciled from sites.yaml

Usage: ffvm <command> [options]

Commands:
  reconcile   make disks and VMs match sites.yaml (--dry-run to preview)
  validate    check sites.yaml and report every error with file:line:col
  status      list sites and orphans with state, memory, disk and uptime
  open SITE   start the VM of a site that is not pinned
  stop SITE   power off the VM of a site

Run 'ffvm <command> --help' for the options of a command.
Examples:
  ffvm reconcile --dry-run --config sites.example.yaml
  ffvm open bank`,

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
  --jobs N             VMs started or stopped at once (default: 2)
${common}

Examples:
  ffvm reconcile --dry-run
  ffvm reconcile --config ~/dotfiles/sites.yaml --detailed-exitcode`,

  validate: `Usage: ffvm validate [options]

Checks sites.yaml against the schema and the rules between fields (a vpn must
be listed under vpns:, style and add-on files must exist). Prints every
problem as file:line:col: key: message; fix, and exits 1 if any is an error.

Options:
${common}

Example:
  ffvm validate --config sites.example.yaml`,

  status: `Usage: ffvm status [options]

Lists every site and every orphan (a disk or VM of a site no longer listed)
with its state (running, stopped, outdated, orphan), pin, resident/configured
memory in MiB, disk size and uptime.

Options:
  --json             print the status as JSON (formatVersion 1)
${common}

Example:
  ffvm status --json`,

  open: `Usage: ffvm open SITE [options]

Starts the VM of SITE, creating its disk first if needed. Pinned sites start
on every reconcile; other sites start only through this command.

Options:
  --no-wait          fail at once if another ffvm holds the state lock
${common}

Example:
  ffvm open bank`,

  stop: `Usage: ffvm stop SITE [options]

Powers off the VM of SITE: the ACPI power button, then QMP quit after the
timeout, then signals. A pinned site starts again on the next reconcile.

Options:
  --no-wait          fail at once if another ffvm holds the state lock
${common}

Example:
  ffvm stop bank`,
};
