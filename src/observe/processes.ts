// Process facts from /proc, read without spawning anything.

import { readFileSync } from "node:fs";

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
