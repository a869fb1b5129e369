// ffvm stop <site>: stop one site's VM, a disposable VM among them.
// ffvm open lives in open.ts.

import { existsSync } from "node:fs";
import { readDesiredState } from "../../config/index.js";
import type { Site } from "../../config/types.js";
import { chooseStateDir, reconcile } from "../../reconcile.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { createEventView } from "../render/progress.js";

export interface SiteCommandOptions {
  configFile: string;
  stateDir?: string;
  site: string;
  wait: boolean;
  /** How long the guest may take to power off before QMP quit, in milliseconds. */
  powerdownTimeoutMs?: number;
}

export const runStop = async (options: SiteCommandOptions, output: Output): Promise<number> => {
  const desired = await readDesiredState(options.configFile);
  const listed = desired.desired.sites.some((site) => site.name === options.site);
  // Without a state directory there is no VM or disk to stop, and a typo
  // should not create one.
  if (!listed && !existsSync(chooseStateDir(options.stateDir, desired.desired))) throw unknownSite(options, desired.desired.sites);
  const view = createEventView(output);
  let report;
  try {
    report = await reconcile({
      desired,
      configFile: options.configFile,
      stateDir: options.stateDir,
      wait: options.wait,
      powerdownTimeoutMs: options.powerdownTimeoutMs,
      onlySite: options.site,
      onlyKinds: ["stop-vm"],
      stop: [options.site],
      restartOutdated: false,
      command: `ffvm stop ${options.site}`,
      emit: view.emit,
    });
  } finally {
    view.close();
  }
  if (report.results.some((result) => result.outcome === "failed")) return exitCodes.error;
  if (report.results.length > 0) return exitCodes.ok;
  // Nothing to stop: a typo should not pass for a stopped site.
  const known = report.desired.sites.some((site) => site.name === options.site) || report.actual.vms.has(options.site) || report.actual.disks.has(options.site);
  if (!known) throw unknownSite(options, report.desired.sites);
  output.out(`${options.site} is not running`);
  return exitCodes.ok;
};

const unknownSite = (options: SiteCommandOptions, sites: readonly Site[]): UsageError => {
  const names = sites.map((site) => site.name).join(", ");
  return new UsageError(`site ${JSON.stringify(options.site)} is not in ${options.configFile} and has no VM or disk; sites: ${names || "(none)"}`);
};
