// Stops one VM: ACPI power button over QMP, then QMP quit, then signals.
// Every signal goes to a pid only after checking that it is still the recorded
// process and that its arguments are those of this site's VM in this state
// directory. So a reused pid or an edited record never gets a signal.

import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { isRecordedVmAlive } from "../observe/vms.js";
import { runFilesIn } from "../qemu/args.js";
import { QmpClient } from "../qemu/qmp.js";
import type { StatePaths } from "../state/paths.js";
import { removeVmRecord, type VmRecord } from "../state/records.js";
import { faultPoint } from "../util/fault-point.js";

export interface ShutdownOptions {
  paths: StatePaths;
  record: VmRecord;
  /** How long the guest may take to power off after the power button, in milliseconds. @default 30000 */
  powerdownTimeoutMs?: number;
  onProgress?: (message: string) => void;
}

export type ShutdownMethod = "powerdown" | "quit" | "SIGTERM" | "SIGKILL" | "already-stopped";

/** Stops the VM, removes its record and, for an ephemeral site, its disk. */
export const shutdownVm = async (options: ShutdownOptions): Promise<ShutdownMethod> => {
  const method = await stopProcess(options);
  faultPoint("vm-stop-after-exit");
  await cleanUp(options.paths, options.record);
  return method;
};

const stopProcess = async (options: ShutdownOptions): Promise<ShutdownMethod> => {
  const { record } = options;
  const alive = (): boolean => isRecordedVmAlive(options.paths, record);
  if (!alive()) return "already-stopped";

  const files = runFilesIn(options.paths.runDir(record.site));
  const client = await QmpClient.connect(files.qmpSocket, 3000).catch(() => undefined);
  if (client !== undefined) {
    try {
      options.onProgress?.("sent ACPI power button, waiting for the guest to power off");
      if (await pressPowerButton(client, alive, options.powerdownTimeoutMs ?? 30_000)) return "powerdown";
      options.onProgress?.("guest ignored the power button, sending QMP quit");
      await client.execute("quit", undefined, qmpReplyTimeoutMs).catch(() => undefined);
      if (await waitForExit(alive, 5000)) return "quit";
    } catch {
      // QMP broke down mid-way; fall through to signals.
    } finally {
      client.close();
    }
  }

  if (!alive()) return "quit";
  process.kill(record.pid, "SIGTERM");
  if (await waitForExit(alive, 5000)) return "SIGTERM";
  if (alive()) process.kill(record.pid, "SIGKILL");
  // The record stays while QEMU lives, so that the VM is never lost track of.
  if (!(await waitForExit(alive, 5000))) throw new Error(`QEMU pid ${record.pid} of ${record.site} did not exit after SIGKILL`);
  return "SIGKILL";
};

// A QEMU that takes longer to reply to a QMP command counts as hung and gets signals instead.
const qmpReplyTimeoutMs = 5000;

// A guest still booting has no ACPI handler yet and drops the event, so the
// button is pressed again every few seconds until the timeout.
const pressPowerButton = async (client: QmpClient, alive: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await client.execute("system_powerdown", undefined, qmpReplyTimeoutMs);
    if (await waitForExit(alive, Math.min(3000, deadline - Date.now()))) return true;
  }
  return !alive();
};

const waitForExit = async (alive: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) return true;
    await sleep(100);
  }
  return !alive();
};

const cleanUp = async (paths: StatePaths, record: VmRecord): Promise<void> => {
  const files = runFilesIn(paths.runDir(record.site));
  await rm(files.qmpSocket, { force: true });
  await rm(files.pidFile, { force: true });
  await rm(files.passtSocket, { force: true });
  await rm(files.passtPidFile, { force: true });
  await rm(files.openSocket, { force: true });
  await rm(files.archive, { force: true });
  await rm(files.tmp, { recursive: true, force: true });
  // A disposable disk is thrown away with its VM.
  if (record.ephemeral && record.disk.startsWith(`${files.dir}/`)) await rm(record.disk, { force: true });
  // A disposable VM leaves nothing, its logs included. The record goes last,
  // because a VM name counts as free only without record and run directory.
  if (record.disposable === true) await rm(files.dir, { recursive: true, force: true });
  await removeVmRecord(paths, record.site);
};
