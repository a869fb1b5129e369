// Disposable VMs: where `ffvm open URL` opens a link that matches no site.
// Each is a site named disposable-<n>, built from defaults:, with an
// ephemeral disk that only QEMU keeps open (see src/vm/launch.ts). Its record
// is marked disposable, so reconcile neither prunes nor restarts it, and
// clears it once the VM has stopped.

import { createHash } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { disposablePrefix } from "../config/links.js";
import { builtinDefaults } from "../config/resolve.js";
import { parseSize } from "../config/size.js";
import type { DesiredState, Site, SiteSettings } from "../config/types.js";
import { isSameProcess, readStartTime } from "../observe/processes.js";
import type { StatePaths } from "../state/paths.js";
import { listDir } from "../state/records.js";

/** Maximum number of disposable VMs at once, which bounds the search for a free name. */
export const maxDisposableVms = 1000;

// A run directory without a reservation file may be one that another process
// made a moment ago. After this long without one, it counts as a leftover.
const unreservedGraceMs = 60_000;

const reservationFile = "reserved.json";

export interface DisposableReservation {
  name: string;
  /** Removes the run directory unless a VM record now owns the name. */
  release: () => Promise<void>;
}

/**
 * Reserves the lowest free name disposable-<n>. A name is taken while its VM
 * record or its run directory exists. The run directory is the reservation:
 * mkdir fails for the second of two processes, and the directory stores the
 * pid of the first. A reservation whose process is gone is free again.
 */
export const reserveDisposableName = async (paths: StatePaths): Promise<DisposableReservation> => {
  await mkdir(paths.run, { recursive: true, mode: 0o700 });
  const records = new Set((await listDir(paths.vms)).filter((entry) => entry.endsWith(".json")).map((entry) => entry.slice(0, -5)));
  for (let number = 1; number <= maxDisposableVms; number++) {
    const name = `${disposablePrefix}${number}`;
    if (records.has(name)) continue;
    const dir = paths.runDir(name);
    if (!(await claimDirectory(dir))) continue;
    const startTime = readStartTime(process.pid) ?? 0;
    await writeFile(`${dir}/${reservationFile}`, JSON.stringify({ pid: process.pid, startTime }), { mode: 0o600 });
    return {
      name,
      release: async () => {
        if ((await listDir(paths.vms)).includes(`${name}.json`)) return;
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`all ${maxDisposableVms} disposable VM names are in use; stop some with ffvm stop disposable-<n>`);
};

// Makes dir, or takes it over when it is a reservation left by a process that is gone.
const claimDirectory = async (dir: string): Promise<boolean> => {
  try {
    await mkdir(dir, { mode: 0o700 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if (!(await isAbandoned(dir))) return false;
  await rm(dir, { recursive: true, force: true });
  try {
    await mkdir(dir, { mode: 0o700 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
};

const isAbandoned = async (dir: string): Promise<boolean> => {
  try {
    const holder = JSON.parse(await readFile(`${dir}/${reservationFile}`, "utf8")) as { pid?: unknown; startTime?: unknown };
    if (typeof holder.pid === "number" && typeof holder.startTime === "number") return !isSameProcess(holder.pid, holder.startTime);
    return true;
  } catch {
    // Without a readable reservation, the directory is abandoned only when it was not modified lately.
    try {
      return Date.now() - (await stat(dir)).mtimeMs > unreservedGraceMs;
    } catch {
      return false;
    }
  }
};

/** Builds the site of a disposable VM: the settings of defaults:, an ephemeral disk, the link as its url. */
export const buildDisposableSite = (name: string, link: URL, desired: DesiredState): Site => {
  const settings: SiteSettings = desired.siteDefaults ?? {
    memory: builtinDefaults.memory,
    cpus: builtinDefaults.cpus,
    disk: builtinDefaults.disk,
    diskBytes: parseSize(builtinDefaults.disk) ?? 4 * 1024 ** 3,
    addons: [],
    audio: builtinDefaults.audio,
  };
  const site: Site = {
    ...settings,
    name,
    url: link.href,
    pinned: false,
    ephemeral: true,
    disposable: true,
    settingsHash: "",
  };
  // Nothing compares this hash, because no sites.yaml lists the VM; it only fills the record.
  site.settingsHash = createHash("sha256").update(JSON.stringify({ ...site, settingsHash: undefined })).digest("hex").slice(0, 16);
  return site;
};
