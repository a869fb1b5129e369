// ffvm service install | uninstall: the systemd user unit that runs ffvm watch
// with the graphical session. It never calls systemctl; it prints the commands.

import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { renderUnit, unitName, userUnitDir } from "../../service/unit.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { parseWatchFlags, watchFlagArguments, type WatchFlags } from "./watch.js";
import { ffvmExecutablePath } from "../executable.js";

export interface ServiceCommandOptions {
  configFile: string;
  stateDir?: string;
  flags: WatchFlags;
  vmConcurrency?: number;
  env?: NodeJS.ProcessEnv;
}

export const runService = async (args: readonly string[], options: ServiceCommandOptions, output: Output): Promise<number> => {
  const [action, ...extra] = args;
  if ((action !== "install" && action !== "uninstall") || extra.length > 0) {
    throw new UsageError("ffvm service takes one action: install or uninstall, for example: ffvm service install --config ~/sites.yaml");
  }
  return action === "install" ? install(options, output) : uninstall(options, output);
};

const install = async (options: ServiceCommandOptions, output: Output): Promise<number> => {
  // Checked here, so that a typo fails now and not at the next login.
  parseWatchFlags(options.flags);
  const env = options.env ?? process.env;
  const args = ["watch", "--config", options.configFile];
  if (options.stateDir !== undefined) args.push("--state-dir", resolve(options.stateDir));
  if (options.vmConcurrency !== undefined) args.push("--jobs", String(options.vmConcurrency));
  args.push(...watchFlagArguments(options.flags));

  const unit = renderUnit({ node: process.execPath, ffvm: ffvmBinPath(), args, path: env.PATH });
  const dir = userUnitDir(env);
  const file = join(dir, unitName);
  const replaced = existsSync(file);
  await mkdir(dir, { recursive: true });
  await writeFile(file, unit, { mode: 0o644 });

  output.out(`${replaced ? "Replaced" : "Wrote"} ${file}: ffvm watch --config ${options.configFile}`);
  if (!existsSync(options.configFile)) output.err(`warning: ${options.configFile} does not exist yet; ffvm watch waits for it`);
  output.out(
    [
      "",
      replaced ? "Load the new unit and restart the service (its VMs keep running):" : "Enable it, so that it starts with every graphical session, and start it now:",
      "  systemctl --user daemon-reload",
      replaced ? "  systemctl --user restart ffvm.service" : "  systemctl --user enable --now ffvm.service",
      "",
      "The VM windows need DISPLAY or WAYLAND_DISPLAY in the systemd user manager.",
      "Most desktops import them at login; if yours does not, run this in the",
      "session's start-up (such as ~/.xprofile, or an exec line in sway's config):",
      "  systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY",
      "",
      "Logs: journalctl --user -u ffvm.service -f",
    ].join("\n"),
  );
  return exitCodes.ok;
};

const uninstall = async (options: ServiceCommandOptions, output: Output): Promise<number> => {
  const dir = userUnitDir(options.env ?? process.env);
  const file = join(dir, unitName);
  if (!existsSync(file)) {
    output.out(`${file} does not exist; nothing to remove`);
    return exitCodes.ok;
  }
  const text = await readFile(file, "utf8");
  if (!text.startsWith("# Written by `ffvm service install`")) {
    output.err(`ffvm: ${file} was not written by ffvm service install; remove it yourself if you mean to`);
    return exitCodes.error;
  }
  // What `systemctl --user disable` would remove: the links in *.wants/.
  const links = await removeWantsLinks(dir, file);
  await rm(file);
  output.out([`Removed ${file}${links.length > 0 ? ` and ${links.join(", ")}` : ""}.`, "Stop the running service (its VMs keep running; stop them with ffvm stop SITE):", "  systemctl --user stop ffvm.service", "  systemctl --user daemon-reload"].join("\n"));
  return exitCodes.ok;
};

const removeWantsLinks = async (dir: string, unitFile: string): Promise<string[]> => {
  const removed: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.endsWith(".wants")) continue;
    const link = join(dir, entry.name, unitName);
    const target = await readlink(link).catch(() => undefined);
    if (target === undefined || resolve(join(dir, entry.name), target) !== unitFile) continue;
    await rm(link);
    removed.push(link);
  }
  return removed;
};

const ffvmBinPath = ffvmExecutablePath;
