// plan(): the ordered actions that make the actual state match the desired
// state. Pure: no I/O, no clock (options.now), no randomness.

import type { DesiredState } from "../config/types.js";
import type { ActualState } from "../observe/types.js";
import { checkPruneGuard } from "./guard.js";
import { planDisk } from "./rules/disks.js";
import { planDisposables } from "./rules/disposable.js";
import { planElsewhere, splitByHost } from "./rules/hosts.js";
import { planImage } from "./rules/image.js";
import { planPrune, planPurge } from "./rules/prune.js";
import { planReset } from "./rules/reset.js";
import { planVm } from "./rules/vms.js";
import type { Outdated, Plan, PlannedAction, PlanOptions } from "./types.js";

export const plan = (desired: DesiredState, actual: ActualState, options: PlanOptions): Plan => {
  const planned: PlannedAction[] = [];
  const outdated: Outdated[] = [];

  // The image comes first: every start waits for it.
  planned.push(...planImage(desired, actual));

  // Removed sites: stop their VMs, then trash their disks.
  planned.push(...planPrune(desired, actual));

  // Sites listed for other machines: stop their VMs here, keep their disks.
  const { here, elsewhere } = splitByHost(desired.sites, options.hostname);
  const otherHosts = planElsewhere(elsewhere, actual);
  planned.push(...otherHosts.actions);
  planned.push(...planDisposables(actual, options));

  // Listed sites: disks before VMs, so a VM never starts without its disk.
  for (const site of here) {
    planned.push(...(planReset(site, actual, options) ?? planDisk(site, actual)));
    const vm = planVm(site, actual, options);
    planned.push(...vm.actions);
    if (vm.outdated !== undefined) outdated.push(vm.outdated);
  }

  // Old trash last; it touches no VM.
  planned.push(...planPurge(actual, options));

  const refusal = checkPruneGuard(planned, actual, options.force ?? false);
  const kept = otherHosts.kept.length > 0 ? { elsewhere: otherHosts.kept } : {};
  if (refusal !== undefined) {
    const refused = planned.map((action, index) => ({ id: index + 1, ...action }));
    return { actions: [], outdated, refusal: { ...refusal, actions: refused }, ...kept };
  }
  return { actions: planned.map((action, index) => ({ id: index + 1, ...action })), outdated, ...kept };
};

export { reasons, type ReasonCode } from "./reasons.js";
export { actionKinds, actionMark, type Action, type ActionKind } from "./actions.js";
export type { Elsewhere, Outdated, Plan, PlanOptions, Refusal } from "./types.js";
