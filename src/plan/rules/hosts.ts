// Sites of a shared sites.yaml that name other machines under hosts:. Such a
// site is planned as if it were not listed here, except that its disk stays:
// another machine's list must never send a disk of this one to trash.

import type { Site } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { Elsewhere, PlannedAction } from "../types.js";

/**
 * Tells whether a site runs on the machine named `hostname`. An entry with
 * dots is compared with the full host name, one without dots with its first
 * label, ignoring case. A site without hosts:, or an unknown host name, runs.
 */
export const runsOnHost = (site: Pick<Site, "hosts">, hostname: string | undefined): boolean => {
  if (site.hosts === undefined || hostname === undefined) return true;
  const full = hostname.toLowerCase().replace(/\.$/, "");
  const firstLabel = full.split(".")[0];
  return site.hosts.some((entry) => (entry.includes(".") ? entry === full : entry === firstLabel));
};

/** Splits the listed sites into those that run on `hostname` and those listed for other machines only. */
export const splitByHost = (sites: readonly Site[], hostname: string | undefined): { here: Site[]; elsewhere: Site[] } => {
  const here: Site[] = [];
  const elsewhere: Site[] = [];
  for (const site of sites) (runsOnHost(site, hostname) ? here : elsewhere).push(site);
  return { here, elsewhere };
};

/** Stops the VMs of sites listed for other machines and notes the disks they keep here. */
export const planElsewhere = (sites: readonly Site[], actual: ActualState): { actions: PlannedAction[]; kept: Elsewhere[] } => {
  const actions: PlannedAction[] = [];
  const kept: Elsewhere[] = [];
  for (const site of sites) {
    const vm = actual.vms.get(site.name);
    const hosts = site.hosts ?? [];
    if (vm?.state === "running") {
      actions.push({ kind: "stop-vm", site: site.name, reason: "SiteOnOtherHost", message: `pid ${vm.pid}; the site runs on ${hosts.join(", ")}` });
    } else if (vm !== undefined) {
      actions.push({ kind: "stop-vm", site: site.name, reason: "SiteOnOtherHost", message: "VM not running; its record is cleared" });
    }
    const disk = actual.disks.get(site.name);
    if (disk !== undefined) kept.push({ site: site.name, hosts, diskBytes: disk.virtualSize });
  }
  return { actions, kept };
};
