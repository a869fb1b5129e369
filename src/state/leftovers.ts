// Files that an apply killed half-way (SIGKILL, power loss) leaves in the
// state directory. The next apply removes them while it holds the lock.

import { join } from "node:path";
import { readStartTime } from "../observe/processes.js";
import type { StatePaths } from "./paths.js";
import { listDir } from "./records.js";
import { removeFile } from "../util/remove-file.js";

// Temporary files of writeFileAtomic (.<name>.<pid>.tmp) and of the lock
// (lock.<pid>.tmp, lock.<pid>.stale), named after the writer's pid.
const temporaryName = /^(?:\..+|lock)\.(\d+)\.(?:tmp|stale)$/;

// createDisk's temporary disk. Only an applier holding the lock creates disks,
// so one found by the lock holder belongs to a killed apply.
const creatingName = /\.qcow2\.creating$/;

/**
 * Removes the temporary files of killed writers and returns their paths. A
 * temporary file whose writer's pid is alive stays, because that process may
 * still be writing it. Must be called with the lock held. The folders of
 * run/ are not searched, one per site: the site archive is written through
 * run/ itself, and a start clears its own folder.
 */
export const removeLeftovers = async (paths: StatePaths): Promise<string[]> => {
  const dirs = [paths.root, paths.disks, paths.vms, paths.trash, paths.run];
  const removed: string[] = [];
  for (const dir of dirs) {
    for (const name of await listDir(dir).catch(() => [])) {
      if (!isLeftover(name)) continue;
      const file = join(dir, name);
      removeFile(file);
      removed.push(file);
    }
  }
  return removed;
};

const isLeftover = (name: string): boolean => {
  if (creatingName.test(name)) return true;
  const match = temporaryName.exec(name);
  if (match === null) return false;
  const pid = Number(match[1]);
  return pid !== process.pid && readStartTime(pid) === undefined;
};
