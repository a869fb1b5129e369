// Refuses a plan that would move more than half of the disks to trash, the
// sign of a sites.yaml that lost most of its sites by mistake.

import type { ActualState } from "../observe/types.js";
import type { PlannedAction, Refusal } from "./types.js";

export const checkPruneGuard = (actions: readonly PlannedAction[], actual: ActualState, force: boolean): Refusal | undefined => {
  if (force) return undefined;
  // A scheduled reset trashes a disk on purpose, so only removed sites count.
  const trashed = actions.filter((action) => action.kind === "trash-disk" && action.reason === "SiteRemoved").length;
  const total = actual.disks.size;
  if (trashed === 0 || trashed * 2 <= total) return undefined;
  return {
    reason: "PruneGuard",
    message: `the plan would move ${trashed} of ${total} ${total === 1 ? "disk" : "disks"} to trash; check sites.yaml, or run ffvm reconcile --force if that is intended`,
  };
};
