// A scheduled reset: the disk of a site whose VM is not running moves to
// trash, and an empty disk of the configured size takes its place.

import { formatSize } from "../../config/size.js";
import type { Site } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { PlannedAction, PlanOptions } from "../types.js";

/** Returns the reset actions of a site, or undefined when no reset applies and planDisk decides. */
export const planReset = (site: Site, actual: ActualState, options: PlanOptions): PlannedAction[] | undefined => {
  if (options.resetDisks?.includes(site.name) !== true || site.ephemeral) return undefined;
  const disk = actual.disks.get(site.name);
  // A running VM writes to its disk, so its reset waits until it stops.
  if (disk === undefined || actual.vms.get(site.name)?.state === "running") return undefined;
  return [
    { kind: "trash-disk", site: site.name, reason: "ResetDue", message: "disk moves to trash" },
    { kind: "create-disk", site: site.name, reason: "ResetDue", message: formatSize(site.diskBytes), bytes: site.diskBytes },
  ];
};
