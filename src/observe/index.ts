// observe(): reads the actual state. It writes nothing and spawns no process.

import { accessSync, constants, existsSync } from "node:fs";
import type { DesiredState, ImageSource } from "../config/types.js";
import { fingerprintFlake, fingerprintRunner } from "../image/fingerprint.js";
import { readQcow2HeaderSync } from "../qemu/qcow2.js";
import type { StatePaths } from "../state/paths.js";
import { listDir, readImageRecord, readVmRecords } from "../state/records.js";
import { parseTrashFileName } from "./trash.js";
import type { ActualState, ObservedDisk, ObservedImage, ObservedVm, TrashEntry } from "./types.js";
import { createProcessIndex, observeVm } from "./vms.js";

/** Observes disks, VMs, the image and the trash of a state directory. */
export const observe = async (paths: StatePaths, image: ImageSource): Promise<ActualState> => {
  const problems: string[] = [];
  const disks = await observeDisks(paths, problems);
  const vms = await observeVms(paths, problems);
  const observedImage = await observeImage(paths, image);
  const trash = await observeTrash(paths);
  return { disks, vms, image: observedImage, trash, problems };
};

/** Observes with the image source of a desired state. */
export const observeFor = (paths: StatePaths, desired: DesiredState): Promise<ActualState> => observe(paths, desired.image);

const observeDisks = async (paths: StatePaths, problems: string[]): Promise<Map<string, ObservedDisk>> => {
  const disks = new Map<string, ObservedDisk>();
  for (const name of await listDir(paths.disks)) {
    const match = /^([a-z0-9-]+)\.qcow2$/.exec(name);
    if (match === null) continue;
    const path = `${paths.disks}/${name}`;
    try {
      const header = readQcow2HeaderSync(path);
      disks.set(match[1]!, { site: match[1]!, path, virtualSize: header.virtualSize });
    } catch (error) {
      problems.push(`disk ${path}: ${(error as Error).message}`);
    }
  }
  return disks;
};

const observeVms = async (paths: StatePaths, problems: string[]): Promise<Map<string, ObservedVm>> => {
  const { records, problems: recordProblems } = await readVmRecords(paths);
  for (const problem of recordProblems) problems.push(`${problem.file}: ${problem.message}`);
  const processes = createProcessIndex();
  return new Map(records.map((record) => [record.site, observeVm(paths, record, processes)]));
};

const observeImage = async (paths: StatePaths, source: ImageSource): Promise<ObservedImage> => {
  const record = await readImageRecord(paths);
  if (source.kind === "runner") {
    try {
      accessSync(source.runner, constants.R_OK);
    } catch (error) {
      return { outPathExists: false, problem: `runner ${source.runner} cannot be read: ${(error as Error).message}` };
    }
    // The runner's id is compared only with the records of running VMs and
    // written to those of starting ones, so it is hashed on first read.
    let id: string | undefined;
    const runnerId = (): string => {
      id ??= fingerprintRunner(source.runner);
      return id;
    };
    return {
      outPathExists: true,
      get fingerprint() {
        return runnerId();
      },
      get currentId() {
        return runnerId();
      },
    };
  }
  const observed: ObservedImage = { outPathExists: record !== undefined && existsSync(record.outPath) };
  if (record !== undefined) observed.record = record;
  try {
    observed.fingerprint = fingerprintFlake(source.flake);
  } catch (error) {
    observed.problem = `flake ${source.flake} cannot be read: ${(error as Error).message}`;
  }
  if (record !== undefined && observed.outPathExists && record.fingerprint === observed.fingerprint) {
    observed.currentId = record.outPath;
  }
  return observed;
};

const observeTrash = async (paths: StatePaths): Promise<TrashEntry[]> => {
  const entries: TrashEntry[] = [];
  for (const name of await listDir(paths.trash)) {
    const entry = parseTrashFileName(paths.trash, name);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
};
