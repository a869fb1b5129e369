import { existsSync } from "node:fs";
import { link, rename, rm } from "node:fs/promises";
import { trashFileName } from "../../observe/trash.js";
import { findRunningVm } from "../../observe/vms.js";
import type { Action } from "../../plan/actions.js";
import { runFilesIn } from "../../qemu/args.js";
import { createDisk, growDisk } from "../../qemu/img.js";
import { QmpClient } from "../../qemu/qmp.js";
import { syncDirectory } from "../../state/atomic.js";
import { removeVmRecord } from "../../state/records.js";
import { faultPoint } from "../../util/fault-point.js";
import { assertDiskUnused } from "../../vm/launch.js";
import type { ApplyContext } from "../context.js";

/** create-disk: an empty qcow2 disk; an existing disk is never replaced. */
export const handleCreateDisk = async (action: Action, context: ApplyContext): Promise<"done" | "skipped"> => {
  const path = context.paths.disk(action.site);
  if (existsSync(path)) return "skipped";
  if (action.file !== undefined && existsSync(action.file)) {
    // link() fails with EEXIST rather than replace a disk, and only then does
    // the trashed name go, so a kill at any moment leaves the disk in one or
    // both places.
    await link(action.file, path);
    await rm(action.file);
    await syncDirectory(context.paths.disks);
    return "done";
  }
  await createDisk(path, action.bytes ?? 0);
  return "done";
};

/** grow-disk: qemu-img resize when the VM is stopped, QMP block_resize while it runs. */
export const handleGrowDisk = async (action: Action, context: ApplyContext): Promise<void> => {
  const path = context.paths.disk(action.site);
  const bytes = action.bytes ?? 0;
  const running = await findRunningVm(context.paths, action.site);
  if (running === undefined) {
    assertDiskUnused(path);
    await growDisk(path, bytes);
    return;
  }
  const client = await QmpClient.connect(runFilesIn(context.paths.runDir(action.site)).qmpSocket);
  try {
    const blocks = (await client.execute("query-block")) as { device: string; qdev?: string; inserted?: { file?: string } }[];
    const block = blocks.find((entry) => entry.inserted?.file === path);
    if (block === undefined) throw new Error(`the running VM has no drive backed by ${path}`);
    const target = block.device !== "" ? { device: block.device } : { "node-name": block.qdev ?? "" };
    await client.execute("block_resize", { ...target, size: bytes });
  } finally {
    client.close();
  }
};

/** trash-disk: moves the disk of a removed site to trash; never while a VM or another process uses it. */
export const handleTrashDisk = async (action: Action, context: ApplyContext): Promise<"done" | "skipped"> => {
  const path = context.paths.disk(action.site);
  if (!existsSync(path)) return "skipped";
  if ((await findRunningVm(context.paths, action.site)) !== undefined) {
    throw new Error(`the VM of ${action.site} is still running; stop it first (ffvm stop ${action.site})`);
  }
  assertDiskUnused(path);
  const target = `${context.paths.trash}/${trashFileName(action.site, new Date())}`;
  // A rename within the state directory is atomic: a kill leaves the disk in
  // exactly one of the two places.
  await rename(path, target);
  faultPoint("disk-trash-after-rename");
  await syncDirectory(context.paths.trash);
  await syncDirectory(context.paths.disks);
  await removeVmRecord(context.paths, action.site);
  context.progress(action, `moved to ${target}`);
  return "done";
};

/** purge-trash: deletes a trashed disk past the retention period. */
export const handlePurgeTrash = async (action: Action): Promise<void> => {
  if (action.file !== undefined) await rm(action.file, { force: true });
};
