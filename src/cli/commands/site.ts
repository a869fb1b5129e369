// ffvm stop <site>: stop one site's VM, a disposable VM among them.
// ffvm open lives in open.ts.

import { reconcile } from "../../reconcile.js";
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
  const view = createEventView(output);
  let report;
  try {
    report = await reconcile({
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
  if (!known) {
    const names = report.desired.sites.map((site) => site.name).join(", ");
    throw new UsageError(`site ${JSON.stringify(options.site)} is not in ${options.configFile} and has no VM or disk; sites: ${names || "(none)"}`);
  }
  output.out(`${options.site} is not running`);
  return exitCodes.ok;
};
