// Status of every site and orphan, from the desired and actual state.

import { readFileSync, statSync } from "node:fs";
import type { DesiredState, Site } from "../config/types.js";
import type { ActualState, ObservedVm } from "../observe/types.js";
import { runsOnHost } from "../plan/rules/hosts.js";

/** other-host: a site that sites.yaml lists for other machines only, with a disk or VM on this one. */
export type SiteState = "running" | "stopped" | "outdated" | "orphan" | "failing" | "other-host";

/** Why a pinned site is not running: the crash backoff of ffvm watch. */
export interface SiteFailure {
  /** Crashes within the crash window. */
  crashes: number;
  /** ffvm watch gave up, and the site stays stopped until started by hand or changed. */
  gaveUp: boolean;
  /** When ffvm watch starts the site again, as ISO 8601; null when it gave up or starts it at the next reconcile. */
  retryAt: string | null;
  lastError: string;
}

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
  /** Set only when state is failing. */
  failure?: SiteFailure;
  /** A VM of `ffvm open URL` for a link that matches no site; listed after the sites. */
  disposable: boolean;
  /** Bytes the disk takes on the host (allocated blocks); null without a disk file. */
  diskUsedBytes: number | null;
  /** The site's hosts: entries; null when it runs on every machine, and for orphans. */
  hosts: string[] | null;
}

export const statusFormatVersion = 1;

/** `failures` lists pinned sites in crash backoff; such a site that is not running is failing. */
export const collectStatus = (
  desired: DesiredState,
  actual: ActualState,
  failures: ReadonlyMap<string, SiteFailure> = new Map(),
  /** This machine's host name, compared with each site's hosts:; undefined shows every site as running here. */
  hostname?: string,
): SiteStatus[] => {
  const rows: SiteStatus[] = [];
  for (const site of desired.sites) {
    const vm = actual.vms.get(site.name);
    const running = vm?.state === "running";
    const placement = { disposable: false, diskUsedBytes: diskUsage(actual.disks.get(site.name)?.path ?? (running ? vm.record.disk : undefined)), hosts: site.hosts ?? null };
    if (!runsOnHost(site, hostname)) {
      // Listed for other machines: shown only for what it left here.
      if (vm === undefined && !actual.disks.has(site.name)) continue;
      rows.push({ ...listedRow(site, vm, actual, "other-host"), ...placement });
      continue;
    }
    const outdated = running && (vm.record.settingsHash !== site.settingsHash || (actual.image.currentId !== undefined && vm.record.imageId !== actual.image.currentId));
    const failure = running ? undefined : failures.get(site.name);
    let state: SiteState = failure === undefined ? "stopped" : "failing";
    if (running) state = outdated ? "outdated" : "running";
    rows.push({ ...listedRow(site, vm, actual, state), ...(failure === undefined ? {} : { failure }), ...placement });
  }
  const listed = new Set(desired.sites.map((site) => site.name));
  const orphans = new Set([...actual.disks.keys(), ...actual.vms.keys()].filter((name) => !listed.has(name)));
  for (const name of [...orphans].sort()) {
    const vm = actual.vms.get(name);
    const running = vm?.state === "running";
    const disposable = vm?.record.disposable === true;
    // A disposable VM is never listed, so it is no orphan; a stopped one is cleared by the next reconcile.
    let state: SiteState = "orphan";
    if (disposable) state = running ? "running" : "stopped";
    rows.push({
      site: name,
      state,
      pinned: false,
      ephemeral: vm?.record.ephemeral ?? false,
      pid: running ? vm.pid : null,
      memoryMiB: vm?.record.settings?.memory ?? null,
      rssMiB: running ? readRssMiB(vm.pid) : null,
      startedAt: running ? vm.record.startedAt : null,
      diskBytes: actual.disks.get(name)?.virtualSize ?? null,
      url: vm?.record.settings?.url ?? null,
      disposable,
      diskUsedBytes: diskUsage(actual.disks.get(name)?.path ?? (running ? vm.record.disk : undefined)),
      hosts: null,
    });
  }
  return rows;
};

// Allocated bytes of a disk file; a disposable VM's disk has no name left, so null.
const diskUsage = (path: string | undefined): number | null => {
  if (path === undefined) return null;
  try {
    return statSync(path).blocks * 512;
  } catch {
    return null;
  }
};

// The columns of a listed site's row that come from the site and its VM.
const listedRow = (site: Site, vm: ObservedVm | undefined, actual: ActualState, state: SiteState) => {
  const running = vm?.state === "running";
  return {
    site: site.name,
    state,
    pinned: site.pinned,
    ephemeral: site.ephemeral,
    pid: running ? vm.pid : null,
    memoryMiB: site.memory,
    rssMiB: running ? readRssMiB(vm.pid) : null,
    startedAt: running ? vm.record.startedAt : null,
    diskBytes: actual.disks.get(site.name)?.virtualSize ?? null,
    url: site.url,
  };
};

const readRssMiB = (pid: number): number | null => {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Math.round(Number(match[1]) / 1024);
  } catch {
    return null;
  }
};
