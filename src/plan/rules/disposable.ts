// Disposable VMs, which `ffvm open URL` starts for links that match no site.
// sites.yaml never lists them, so they are not pruned as removed sites. A
// running disposable VM stops only on request, and a stopped one's record is
// cleared.

import type { ActualState } from "../../observe/types.js";
import type { PlannedAction, PlanOptions } from "../types.js";

/** Returns the names of the disposable VMs that ffvm has records of. */
export const disposableNames = (actual: ActualState): Set<string> =>
  new Set([...actual.vms.values()].filter((vm) => vm.record.disposable === true).map((vm) => vm.site));

export const planDisposables = (actual: ActualState, options: Pick<PlanOptions, "stop">): PlannedAction[] => {
  const actions: PlannedAction[] = [];
  for (const site of [...disposableNames(actual)].sort()) {
    const vm = actual.vms.get(site)!;
    if (vm.state !== "running") {
      actions.push({ kind: "stop-vm", site, reason: "DisposableEnded", message: "VM not running; its record and run directory are removed" });
    } else if (options.stop?.includes(site) === true) {
      actions.push({ kind: "stop-vm", site, reason: "StopRequested", message: `pid ${vm.pid}` });
    }
  }
  return actions;
};
