// Every listed, non-ephemeral site has a disk at least as large as configured.

import { formatSize } from "../../config/size.js";
import type { Site } from "../../config/types.js";
import type { ActualState } from "../../observe/types.js";
import type { PlannedAction } from "../types.js";

const newestTrashed = (site: string, actual: ActualState) =>
  actual.trash.filter((entry) => entry.site === site).sort((a, b) => b.trashedAt.getTime() - a.trashedAt.getTime())[0];

export const planDisk = (site: Site, actual: ActualState): PlannedAction[] => {
  if (site.ephemeral) return [];
  const disk = actual.disks.get(site.name);
  if (disk === undefined) {
    // A site listed again (a reverted edit, an older sites.yaml from git) gets
    // back its newest trashed disk instead of an empty one.
    const trashed = newestTrashed(site.name, actual);
    if (trashed !== undefined) {
      const name = trashed.file.split("/").at(-1) ?? trashed.file;
      return [{ kind: "create-disk", site: site.name, reason: "DiskInTrash", message: `restored from trash/${name}`, file: trashed.file, bytes: site.diskBytes }];
    }
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
