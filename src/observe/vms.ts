// Running VMs, from records checked against /proc, since pids are reused and
// records can be stale or edited.

import { existsSync, readFileSync } from "node:fs";
import { qmpOption, runFilesIn } from "../qemu/args.js";
import type { StatePaths } from "../state/paths.js";
import { readVmRecords, type VmRecord } from "../state/records.js";
import { findProcesses, isQemuForSite, isSameProcess, listPids, qemuNameFor, readCmdline, readStartTime, type ProcessInfo } from "./processes.js";
import type { ObservedVm } from "./types.js";

/**
 * Checks one record against /proc. When the recorded pid is not the VM, as when
 * ffvm died before recording QEMU's pid (the record then contains pid 0), QEMU's
 * pidfile or a search of /proc still finds a VM that ffvm started for the site.
 */
export const observeVm = (paths: StatePaths, record: VmRecord, processes?: ProcessIndex): ObservedVm => {
  const listed = processes?.isListed(record.pid) !== false;
  if (listed && isRecordedVmAlive(paths, record)) return { site: record.site, record, state: "running", pid: record.pid };
  const found = processes !== undefined && record.pid > 0 ? findRecordedProcess(paths, record, listed) : findVmProcess(paths, record.site, processes);
  if (found !== undefined) {
    return { site: record.site, record: { ...record, pid: found.pid, startTime: found.startTime }, state: "running", pid: found.pid };
  }
  return { site: record.site, record, state: "dead", pid: record.pid };
};

// A start writes the record with pid 0 before it spawns the runner, and with
// the pid from QEMU's pidfile once QMP replies. A later start writes pid 0
// again first. So the VM of a record with a pid is that pid or none, and a
// pid that /proc does not list needs no further reads. The recorded pid is
// the runner's when QEMU's pidfile was unreadable and the runner does not exec QEMU.
const findRecordedProcess = (paths: StatePaths, record: VmRecord, listed: boolean): ProcessInfo | undefined => {
  if (!listed) return undefined;
  const option = qmpOption(runFilesIn(paths.runDir(record.site)));
  const argv = readCmdline(record.pid);
  const startTime = readStartTime(record.pid);
  if (argv === undefined || startTime === undefined) return undefined;
  return isVmArgv(argv, record.site, option) || isRunnerArgv(argv, record.site, option) ? { pid: record.pid, startTime, argv } : undefined;
};

/** Tells whether the record's pid is still the process it recorded and that process is the site's VM. */
export const isRecordedVmAlive = (paths: StatePaths, record: VmRecord): boolean => {
  if (record.pid <= 0 || !isSameProcess(record.pid, record.startTime)) return false;
  const argv = readCmdline(record.pid);
  return argv !== undefined && isVmArgv(argv, record.site, qmpOption(runFilesIn(paths.runDir(record.site))));
};

/**
 * Finds the process that ffvm started for the site's VM in this state
 * directory: QEMU, or the runner just before it execs QEMU. The runner execs
 * QEMU, so both have the same pid.
 */
export const findVmProcess = (paths: StatePaths, site: string, processes?: ProcessIndex): ProcessInfo | undefined => {
  const files = runFilesIn(paths.runDir(site));
  const option = qmpOption(files);
  const fromPidFile = findInPidFile(files.pidFile, site, option);
  if (fromPidFile !== undefined) return fromPidFile;
  const matches = (argv: readonly string[]): boolean => isVmArgv(argv, site, option) || isRunnerArgv(argv, site, option);
  if (processes !== undefined) return processes.withQmpOption(option).find((candidate) => matches(candidate.argv));
  return findProcesses(matches)[0];
};

// The site's QEMU by the pid in its pidfile.
const findInPidFile = (pidFile: string, site: string, option: string): ProcessInfo | undefined => {
  // Checked first because a read of a missing file throws, and building the
  // error costs more than the check, with one stopped VM per site.
  const pid = existsSync(pidFile) ? readPidFile(pidFile) : undefined;
  if (pid === undefined) return undefined;
  const argv = readCmdline(pid);
  const startTime = readStartTime(pid);
  return argv !== undefined && startTime !== undefined && isVmArgv(argv, site, option) ? { pid, startTime, argv } : undefined;
};

/** Processes that carry a -qmp option, read from /proc once for all records of an observe. */
export interface ProcessIndex {
  withQmpOption: (option: string) => ProcessInfo[];
  /** Whether /proc listed the pid at the first call; a record of an unlisted pid needs no further reads. */
  isListed: (pid: number) => boolean;
}

/**
 * Scans /proc once, on the first lookup, and indexes processes by their -qmp
 * value. Searching /proc once per dead record made observe cost records ×
 * processes file reads.
 */
export const createProcessIndex = (): ProcessIndex => {
  let byOption: Map<string, ProcessInfo[]> | undefined;
  let pids: Set<number> | undefined;
  return {
    isListed: (pid) => {
      pids ??= new Set(listPids());
      return pids.has(pid);
    },
    withQmpOption: (option) => {
      if (byOption === undefined) {
        byOption = new Map();
        for (const info of findProcesses((argv) => argv.includes("-qmp"))) {
          // A runner may pass a -qmp of its own before ffvm's, so every value counts.
          info.argv.forEach((arg, index) => {
            const value = info.argv[index + 1];
            if (arg !== "-qmp" || value === undefined) return;
            byOption!.set(value, [...(byOption!.get(value) ?? []), info]);
          });
        }
      }
      return byOption.get(option) ?? [];
    },
  };
};

// QEMU started with the site's -name and the -qmp socket of this state directory.
const isVmArgv = (argv: readonly string[], site: string, option: string): boolean =>
  isQemuForSite(argv, site) && hasQmpOption(argv, option);

// A runner script, run by its interpreter, with ffvm's arguments for the site.
const isRunnerArgv = (argv: readonly string[], site: string, option: string): boolean =>
  hasQmpOption(argv, option) && argv.some((arg, index) => arg === "-name" && argv[index + 1] === qemuNameFor(site));

const hasQmpOption = (argv: readonly string[], option: string): boolean =>
  argv.some((arg, index) => arg === "-qmp" && argv[index + 1] === option);

/** Reads a pid file such as QEMU's -pidfile; undefined when it is missing or contains no pid. */
export const readPidFile = (file: string): number | undefined => {
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
