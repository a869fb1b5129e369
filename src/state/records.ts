// Records of what ffvm started and built, kept as JSON in the state directory.

import { readdirSync, readFileSync } from "node:fs";
import { writeJsonAtomic } from "./atomic.js";
import type { StatePaths } from "./paths.js";
import { removeFile } from "../util/remove-file.js";

export const recordFormatVersion = 1;

/** A started VM. Written before QEMU starts (pid 0) and again once its pid is known. */
export interface VmRecord {
  version: number;
  site: string;
  /** QEMU's pid, or 0 while the VM is starting. */
  pid: number;
  /** Start time of the pid in clock ticks since boot, so a reused pid is not taken for the VM. */
  startTime: number;
  startedAt: string;
  /** Identity of the image the VM booted: the nix out path or the runner's content hash. */
  imageId: string;
  settingsHash: string;
  /** Settings the VM started with, to show what changed; no secrets. */
  settings?: RecordedSettings;
  /** The disk the VM writes to. */
  disk: string;
  ephemeral: boolean;
  /** Set for a VM of `ffvm open URL` that belongs to no site: reconcile clears it once it stops and never prunes it. */
  disposable?: boolean;
}

export interface RecordedSettings {
  url: string;
  memory: number;
  cpus: number;
  audio: boolean;
  vpn: string | null;
}

/** The last successful image build. */
export interface ImageRecord {
  version: number;
  fingerprint: string;
  outPath: string;
  runner: string;
  builtAt: string;
}

export interface RecordReadProblem {
  file: string;
  message: string;
}

export const writeVmRecord = (paths: StatePaths, record: VmRecord): Promise<void> =>
  writeJsonAtomic(paths.record(record.site), record);

export const removeVmRecord = async (paths: StatePaths, site: string): Promise<void> => {
  removeFile(paths.record(site));
};

/** Reads every VM record; unreadable ones are returned as problems, never thrown. */
export const readVmRecords = async (paths: StatePaths): Promise<{ records: VmRecord[]; problems: RecordReadProblem[] }> => {
  const records: VmRecord[] = [];
  const problems: RecordReadProblem[] = [];
  for (const entry of await listDir(paths.vms)) {
    if (!entry.endsWith(".json") || entry.startsWith(".")) continue;
    const file = `${paths.vms}/${entry}`;
    const parsed = await readJson(file);
    if (isVmRecord(parsed) && `${parsed.site}.json` === entry) records.push(parsed);
    else problems.push({ file, message: "not a valid VM record; remove it once no VM uses it" });
  }
  return { records, problems };
};

export const readImageRecord = async (paths: StatePaths): Promise<ImageRecord | undefined> => {
  const parsed = await readJson(paths.imageRecord);
  if (parsed === undefined || typeof parsed !== "object" || parsed === null) return undefined;
  const record = parsed as Partial<ImageRecord>;
  if (typeof record.fingerprint !== "string" || typeof record.outPath !== "string" || typeof record.runner !== "string") return undefined;
  return record as ImageRecord;
};

export const writeImageRecord = (paths: StatePaths, record: ImageRecord): Promise<void> =>
  writeJsonAtomic(paths.imageRecord, record);

export const listDir = async (dir: string): Promise<string[]> => {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
};

// Synchronous, like the qcow2 header reads: observe reads one record per VM,
// and small synchronous reads beat the same reads queued on libuv's thread pool.
const readJson = async (file: string): Promise<unknown> => {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
};

const isVmRecord = (value: unknown): value is VmRecord => {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.site === "string" &&
    typeof record.pid === "number" &&
    typeof record.startTime === "number" &&
    typeof record.imageId === "string" &&
    typeof record.settingsHash === "string" &&
    typeof record.disk === "string"
  );
};
