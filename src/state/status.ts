// Status of every site and orphan, from the desired and actual state.

import { readFileSync } from "node:fs";
import type { DesiredState } from "../config/types.js";
import type { ActualState } from "../observe/types.js";

export type SiteState = "running" | "stopped" | "outdated" | "orphan";

export interface SiteStatus {
  site: string;
  state: SiteState;
  pinned: boolean;
  ephemeral: boolean;
  pid: number | null;
  /** Configured memory in MiB; null for an orphan. */
  memoryMiB: number | null;
  /** Resident memory of the QEMU process in MiB, from /proc; null when not running. */
  rssMiB: number | null;
  startedAt: string | null;
  /** Virtual disk size in bytes; null without a disk. */
  diskBytes: number | null;
  url: string | null;
}

export const statusFormatVersion = 1;

export const collectStatus = (desired: DesiredState, actual: ActualState): SiteStatus[] => {
  const rows: SiteStatus[] = [];
  for (const site of desired.sites) {
    const vm = actual.vms.get(site.name);
    const running = vm?.state === "running";
    const outdated = running && (vm.record.settingsHash !== site.settingsHash || (actual.image.currentId !== undefined && vm.record.imageId !== actual.image.currentId));
    rows.push({
      site: site.name,
      state: running ? (outdated ? "outdated" : "running") : "stopped",
      pinned: site.pinned,
      ephemeral: site.ephemeral,
      pid: running ? vm.pid : null,
      memoryMiB: site.memory,
      rssMiB: running ? readRssMiB(vm.pid) : null,
      startedAt: running ? vm.record.startedAt : null,
      diskBytes: actual.disks.get(site.name)?.virtualSize ?? null,
      url: site.url,
    });
  }
  const listed = new Set(desired.sites.map((site) => site.name));
  const orphans = new Set([...actual.disks.keys(), ...actual.vms.keys()].filter((name) => !listed.has(name)));
  for (const name of [...orphans].sort()) {
    const vm = actual.vms.get(name);
    const running = vm?.state === "running";
    rows.push({
      site: name,
      state: "orphan",
      pinned: false,
      ephemeral: vm?.record.ephemeral ?? false,
      pid: running ? vm.pid : null,
      memoryMiB: vm?.record.settings?.memory ?? null,
      rssMiB: running ? readRssMiB(vm.pid) : null,
      startedAt: running ? vm.record.startedAt : null,
      diskBytes: actual.disks.get(name)?.virtualSize ?? null,
      url: vm?.record.settings?.url ?? null,
    });
  }
  return rows;
};

const readRssMiB = (pid: number): number | null => {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Math.round(Number(match[1]) / 1024);
  } catch {
    return null;
  }
};
