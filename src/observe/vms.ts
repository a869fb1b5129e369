// Running VMs, from records checked against /proc, since pids are reused.

import { readFileSync } from "node:fs";
import type { StatePaths } from "../state/paths.js";
import { readVmRecords, type VmRecord } from "../state/records.js";
import { isQemuForSite, isSameProcess, readCmdline, readStartTime } from "./processes.js";
import type { ObservedVm } from "./types.js";

/** Checks one record against /proc; a record still starting is checked through QEMU's pidfile. */
export const observeVm = (paths: StatePaths, record: VmRecord): ObservedVm => {
  if (record.pid > 0 && isSameProcess(record.pid, record.startTime) && isSiteQemu(record.pid, record.site)) {
    return { site: record.site, record, state: "running", pid: record.pid };
  }
  // A record with pid 0 was written before QEMU started; if ffvm died before
  // writing the pid, QEMU's own pidfile still names the process.
  const adopted = record.pid === 0 ? readPidFile(`${paths.runDir(record.site)}/qemu.pid`) : undefined;
  if (adopted !== undefined && isSiteQemu(adopted, record.site)) {
    const startTime = readStartTime(adopted) ?? 0;
    return { site: record.site, record: { ...record, pid: adopted, startTime }, state: "running", pid: adopted };
  }
  return { site: record.site, record, state: "dead", pid: record.pid };
};

const isSiteQemu = (pid: number, site: string): boolean => {
  const argv = readCmdline(pid);
  return argv !== undefined && isQemuForSite(argv, site);
};

const readPidFile = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/** Returns the record of the site's VM if that VM is running now. */
export const findRunningVm = async (paths: StatePaths, site: string): Promise<VmRecord | undefined> => {
  const { records } = await readVmRecords(paths);
  const record = records.find((entry) => entry.site === site);
  if (record === undefined) return undefined;
  const observed = observeVm(paths, record);
  return observed.state === "running" ? observed.record : undefined;
};
