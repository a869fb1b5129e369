// Rules for starting, restarting and stopping VMs.

import type { Site } from "../../config/types.js";
import type { ActualState, ObservedVm } from "../../observe/types.js";
import type { ReasonCode } from "../reasons.js";
import type { Outdated, PlannedAction, PlanOptions } from "../types.js";

export interface VmPlan {
  actions: PlannedAction[];
  outdated?: Outdated;
}

export const planVm = (site: Site, actual: ActualState, options: PlanOptions): VmPlan => {
  const vm = actual.vms.get(site.name);
  const running = vm?.state === "running";

  if (options.stop?.includes(site.name)) {
    return { actions: running ? [{ kind: "stop-vm", site: site.name, reason: "StopRequested", message: `pid ${vm.pid}` }] : [] };
  }
  if (!running) {
    if (options.holdStarts?.includes(site.name)) return { actions: [] };
    if (site.pinned) return { actions: [startAction(site, "PinnedNotRunning")] };
    if (options.start?.includes(site.name)) return { actions: [startAction(site, "OpenRequested")] };
    return { actions: [] };
  }

  const changes = describeChanges(site, vm, actual.image.currentId);
  if (changes.reasons.length === 0) return { actions: [] };
  if (options.restartOutdated === false) {
    return { actions: [], outdated: { site: site.name, reasons: changes.reasons, message: changes.message } };
  }
  return { actions: [{ kind: "restart-vm", site: site.name, reason: changes.reasons[0]!, message: changes.message }] };
};

const startAction = (site: Site, reason: ReasonCode): PlannedAction => ({
  kind: "start-vm",
  site: site.name,
  reason,
  message: `${site.memory} MiB, ${site.cpus} CPU${site.cpus === 1 ? "" : "s"}${site.ephemeral ? ", ephemeral" : ""}`,
});

// Compares a running VM with the site's settings and the current image. An
// image still to be built (currentId unknown) is compared after the build.
const describeChanges = (site: Site, vm: ObservedVm, currentImageId: string | undefined): { reasons: ReasonCode[]; message: string } => {
  const reasons: ReasonCode[] = [];
  const details: string[] = [];
  if (vm.record.settingsHash !== site.settingsHash) {
    reasons.push("SettingsChanged");
    details.push(...settingDifferences(site, vm));
  }
  if (currentImageId !== undefined && vm.record.imageId !== currentImageId) {
    reasons.push("ImageOutdated");
    details.push("new image");
  }
  return { reasons, message: details.length > 0 ? details.join(", ") : "settings changed" };
};

const settingDifferences = (site: Site, vm: ObservedVm): string[] => {
  const before = vm.record.settings;
  if (before === undefined) return [];
  const differences: string[] = [];
  if (before.memory !== site.memory) differences.push(`memory ${before.memory} → ${site.memory} MiB`);
  if (before.cpus !== site.cpus) differences.push(`cpus ${before.cpus} → ${site.cpus}`);
  if (before.url !== site.url) differences.push("url changed");
  if (before.audio !== site.audio) differences.push(`audio ${before.audio ? "on" : "off"} → ${site.audio ? "on" : "off"}`);
  if (before.vpn !== (site.vpn?.name ?? null)) differences.push(`vpn ${before.vpn ?? "none"} → ${site.vpn?.name ?? "none"}`);
  return differences;
};
