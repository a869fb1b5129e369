// The systemd user unit that runs `ffvm watch` in the graphical session.
//
// KillMode=process: on stop, systemd signals only ffvm itself. With the
// default KillMode=control-group it would also kill every QEMU process that
// ffvm started, since they sit in the service's cgroup, and so close the
// person's browser sessions whenever the service restarts. VMs therefore
// outlive the service, as they outlive `ffvm reconcile`.

import { homedir } from "node:os";
import { join } from "node:path";

export const unitName = "ffvm.service";

export interface UnitOptions {
  /** Absolute path of the node executable. */
  node: string;
  /** Absolute path of the ffvm executable, dist/bin/ffvm.cjs. */
  ffvm: string;
  /** Arguments after bin.js, such as ["watch", "--config", "/home/alice/sites.yaml"]. */
  args: readonly string[];
  /** PATH for the service, so that it finds qemu, qemu-img, passt and nix as the installing shell did. */
  path?: string;
}

/** Returns the text of ffvm.service. */
export const renderUnit = (options: UnitOptions): string => {
  const command = [options.node, options.ffvm, ...options.args].map(quoteExecArgument).join(" ");
  const lines = [
    "# Written by `ffvm service install`; `ffvm service uninstall` removes it.",
    "[Unit]",
    "Description=ffvm watch: one Firefox VM per website, reconciled from sites.yaml",
    // Started and stopped with the desktop session, whose display the VM windows need.
    "PartOf=graphical-session.target",
    "After=graphical-session.target",
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${command}`,
    // SIGHUP makes ffvm watch reconcile at once.
    "ExecReload=kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=10",
    // Only ffvm is stopped; its VMs keep running (see the comment at the top of unit.ts).
    "KillMode=process",
    // A VM start in flight may take up to 30 s to finish before ffvm exits.
    "TimeoutStopSec=60",
    "SyslogIdentifier=ffvm",
  ];
  if (options.path !== undefined && options.path !== "") lines.push(`Environment=${quoteEnvironmentAssignment("PATH", options.path)}`);
  lines.push("", "[Install]", "WantedBy=graphical-session.target", "");
  return lines.join("\n");
};

/**
 * Quotes one word of an ExecStart= or Environment= line: double quotes with C
 * escapes, % doubled so that systemd expands no specifier, and $ doubled so
 * that it expands no variable (systemd.service(5), "Command lines").
 */
export const quoteExecArgument = (word: string): string => {
  const escaped = word
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n")
    .replaceAll("\t", "\\t")
    .replaceAll("%", "%%")
    // A function, because "$$" in a replacement string stands for one "$".
    .replaceAll("$", () => "$$");
  return `"${escaped}"`;
};

/**
 * Quotes a NAME=value word of an Environment= line. It differs from an
 * ExecStart= word in that systemd expands no variables there, so $ stays as
 * it is (systemd.exec(5), "Environment=").
 */
export const quoteEnvironmentAssignment = (name: string, value: string): string => {
  const escaped = `${name}=${value}`.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("%", "%%");
  return `"${escaped}"`;
};

/** Returns the directory of user units: $XDG_CONFIG_HOME/systemd/user, or ~/.config/systemd/user. */
export const userUnitDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(configHome, "systemd", "user");
};
