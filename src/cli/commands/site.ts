// ffvm open <site> and ffvm stop <site>: start or stop one site's VM.

import { readDesiredState } from "../../config/index.js";
import { reconcile } from "../../reconcile.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { printEvent } from "../render/events.js";

export interface SiteCommandOptions {
  configFile: string;
  stateDir?: string;
  site: string;
  wait: boolean;
}

export const runOpen = (options: SiteCommandOptions, output: Output): Promise<number> => runSiteCommand("open", options, output);

export const runStop = (options: SiteCommandOptions, output: Output): Promise<number> => runSiteCommand("stop", options, output);

const runSiteCommand = async (command: "open" | "stop", options: SiteCommandOptions, output: Output): Promise<number> => {
  const { desired } = await readDesiredState(options.configFile);
  const listed = desired.sites.some((site) => site.name === options.site);
  if (!listed && command === "open") {
    const names = desired.sites.map((site) => site.name).join(", ");
    throw new UsageError(`site ${JSON.stringify(options.site)} is not in ${options.configFile}; sites: ${names || "(none)"}`);
  }
  const report = await reconcile({
    configFile: options.configFile,
    stateDir: options.stateDir,
    wait: options.wait,
    onlySite: options.site,
    onlyKinds: command === "open" ? ["build-image", "create-disk", "grow-disk", "start-vm"] : ["stop-vm"],
    start: command === "open" ? [options.site] : [],
    stop: command === "stop" ? [options.site] : [],
    restartOutdated: false,
    command: `ffvm ${command} ${options.site}`,
    emit: (event) => printEvent(output, event),
  });
  if (report.results.some((result) => result.outcome === "failed")) return exitCodes.error;
  if (report.results.length === 0) {
    output.out(command === "open" ? `${options.site} is already running` : `${options.site} is not running`);
  }
  return exitCodes.ok;
};
