// Pruning of sites no longer listed: their VMs stop, then their disks move to trash.

import type { DesiredState } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { PlannedAction, PlanOptions } from "../types.js";
import { defaultTrashRetentionMs } from "../types.js";
import { disposableNames } from "./disposable.js";

/** Stops and trashes what ffvm made for sites that are gone, from its records and disks only. */
export const planPrune = (desired: DesiredState, actual: ActualState): PlannedAction[] => {
  const listed = new Set(desired.sites.map((site) => site.name));
  // Disposable VMs are never listed; src/plan/rules/disposable.ts plans them.
  const disposable = disposableNames(actual);
  const removed = new Set([...actual.disks.keys(), ...actual.vms.keys()].filter((name) => !listed.has(name) && !disposable.has(name)));
  const actions: PlannedAction[] = [];
  for (const site of [...removed].sort()) {
    const vm = actual.vms.get(site);
    if (vm?.state === "running") actions.push({ kind: "stop-vm", site, reason: "SiteRemoved", message: `pid ${vm.pid}` });
    else if (vm !== undefined && !actual.disks.has(site)) {
      actions.push({ kind: "stop-vm", site, reason: "SiteRemoved", message: "VM not running; its record is cleared" });
    }
    if (actual.disks.has(site)) actions.push({ kind: "trash-disk", site, reason: "SiteRemoved", message: "disk moves to trash" });
  }
  return actions;
};

/** Purges trashed disks older than the retention period. */
export const planPurge = (actual: ActualState, options: PlanOptions): PlannedAction[] => {
  const retention = options.trashRetentionMs ?? defaultTrashRetentionMs;
  return actual.trash
    .filter((entry) => options.now.getTime() - entry.trashedAt.getTime() > retention)
    .map((entry) => ({
      kind: "purge-trash" as const,
      site: entry.site,
      reason: "TrashExpired" as const,
      message: entry.file.split("/").at(-1) ?? entry.file,
      file: entry.file,
    }));
};
