// The actual state: what exists on this machine, as observed without changing it.

import type { ImageRecord, VmRecord } from "../state/records.js";

export interface ObservedDisk {
  site: string;
  path: string;
  /** Virtual size in bytes, from the qcow2 header. */
  virtualSize: number;
}

export interface ObservedVm {
  site: string;
  record: VmRecord;
  /** running: the recorded pid is alive and is QEMU for this site; dead: it is not. */
  state: "running" | "dead";
  pid: number;
}

export interface ObservedImage {
  /** The last successful build, if any. */
  record?: ImageRecord;
  /** Fingerprint of the image source files as they are now. */
  fingerprint?: string;
  /** Whether the recorded out path still exists in the nix store. */
  outPathExists: boolean;
  /** Identity of the image VMs start from now, when it is known without a build. */
  currentId?: string;
  /** The reason the source could not be read, when it could not. */
  problem?: string;
}

export interface TrashEntry {
  file: string;
  site: string;
  trashedAt: Date;
}

export interface ActualState {
  disks: Map<string, ObservedDisk>;
  vms: Map<string, ObservedVm>;
  image: ObservedImage;
  trash: TrashEntry[];
  /** Things observe could not make sense of, such as an unreadable record. */
  problems: string[];
}
