// Process facts from /proc, read without spawning anything.

import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";

/** Returns the start time of a process in clock ticks since boot, or undefined if it is gone. */
export const readStartTime = (pid: number): number | undefined => {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name in field 2 may hold spaces and parentheses, so count
  // fields after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X") return undefined;
  const startTime = Number(fields[19]);
  return Number.isFinite(startTime) ? startTime : undefined;
};

/** Returns the argument list of a process, or undefined if it is gone. */
export const readCmdline = (pid: number): string[] | undefined => {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return undefined;
    return raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
};

/** Tells whether `pid` is still the process that was started at `startTime`. */
export const isSameProcess = (pid: number, startTime: number): boolean => readStartTime(pid) === startTime;

/** QEMU's -name value for a site; ffvm recognises its VMs by it. */
export const qemuNameFor = (site: string): string => `ffvm-${site}`;

/** Tells whether an argument list is a QEMU started for `site` by ffvm. */
export const isQemuForSite = (argv: readonly string[], site: string): boolean => {
  const program = argv[0] ?? "";
  if (!/qemu-(system-[a-z0-9_]+|kvm)$/.test(program.split("/").at(-1) ?? "")) return false;
  let name: string | undefined;
  for (let index = 1; index < argv.length - 1; index++) {
    // QEMU takes the last -name; its value may carry ",process=..." options.
    if (argv[index] === "-name") name = argv[index + 1]?.split(",")[0]?.replace(/^guest=/, "");
  }
  return name === qemuNameFor(site);
};

export interface ProcessInfo {
  pid: number;
  startTime: number;
  argv: string[];
}

/** Lists the processes whose argument list matches `test`, skipping those /proc does not show. */
export const findProcesses = (test: (argv: readonly string[]) => boolean): ProcessInfo[] => {
  const found: ProcessInfo[] = [];
  for (const pid of listPids()) {
    const argv = readCmdline(pid);
    if (argv === undefined || !test(argv)) continue;
    const startTime = readStartTime(pid);
    if (startTime !== undefined) found.push({ pid, startTime, argv });
  }
  return found;
};

/**
 * Lists the processes other than this one with `file` open, from the links in
 * /proc/<pid>/fd. Without root that covers only the caller's own processes,
 * because the fd links of other users cannot be read.
 */
export const findFileUsers = (file: string): ProcessInfo[] => {
  let target: string;
  try {
    target = realpathSync(file);
  } catch {
    return [];
  }
  const found: ProcessInfo[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid || !hasOpen(pid, target)) continue;
    const startTime = readStartTime(pid);
    if (startTime !== undefined) found.push({ pid, startTime, argv: readCmdline(pid) ?? [] });
  }
  return found;
};

/** Describes a process for messages by pid and program name only, because its arguments may hold secrets. */
export const describeProcess = (info: ProcessInfo): string => `pid ${info.pid} (${info.argv[0]?.split("/").at(-1) || "unknown program"})`;

/** Lists the pids /proc shows. */
export const listPids = (): number[] => {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
};

const hasOpen = (pid: number, target: string): boolean => {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return true;
    } catch {
      // The descriptor closed while the list was read.
    }
  }
  return false;
};
