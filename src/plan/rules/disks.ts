// Every listed, non-ephemeral site has a disk at least as large as configured.

import { formatSize } from "../../config/size.js";
import type { Site } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { PlannedAction } from "../types.js";

export const planDisk = (site: Site, actual: ActualState): PlannedAction[] => {
  if (site.ephemeral) return [];
  const disk = actual.disks.get(site.name);
  if (disk === undefined) {
    return [{ kind: "create-disk", site: site.name, reason: "DiskMissing", message: formatSize(site.diskBytes), bytes: site.diskBytes }];
  }
  // Disks never shrink: a smaller configured size is ignored.
  if (disk.virtualSize < site.diskBytes) {
    return [
      {
        kind: "grow-disk",
        site: site.name,
        reason: "SizeIncreased",
        message: `${formatSize(disk.virtualSize)} → ${formatSize(site.diskBytes)}`,
        bytes: site.diskBytes,
      },
    ];
  }
  return [];
};
