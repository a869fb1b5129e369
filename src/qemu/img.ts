// qemu-img calls that change disks.

import { link, rm } from "node:fs/promises";
import { execa } from "execa";
import { describeCommandFailure } from "../util/command-error.js";

/**
 * Creates an empty qcow2 disk of `bytes` virtual size. qemu-img overwrites
 * existing files, so the disk is made under a temporary name and linked into
 * place, which fails with EEXIST instead of replacing a disk.
 */
export const createDisk = async (path: string, bytes: number): Promise<void> => {
  const temporary = `${path}.creating`;
  await rm(temporary, { force: true });
  try {
    const result = await execa("qemu-img", ["create", "-q", "-f", "qcow2", temporary, String(bytes)], { reject: false });
    if (result.failed) throw describeCommandFailure("qemu-img create", result);
    await link(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
};

/** Grows a stopped VM's qcow2 disk to `bytes`. */
export const growDisk = async (path: string, bytes: number): Promise<void> => {
  const result = await execa("qemu-img", ["resize", "-q", "-f", "qcow2", path, String(bytes)], { reject: false });
  if (result.failed) throw describeCommandFailure("qemu-img resize", result);
};
