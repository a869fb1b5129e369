// qemu-img calls that change disks.

import { chmod, link, rm } from "node:fs/promises";
import { execa } from "execa";
import { describeCommandFailure } from "../util/command-error.js";
import { faultPoint } from "../util/fault-point.js";

/**
 * Creates an empty qcow2 disk of `bytes` virtual size, mode 0600. qemu-img
 * overwrites existing files, so the disk is made under the temporary name
 * <path>.creating and linked into place, which fails with EEXIST instead of
 * replacing a disk. A kill can leave <path>.creating behind, which
 * removeLeftovers deletes.
 */
export const createDisk = async (path: string, bytes: number): Promise<void> => {
  const temporary = `${path}.creating`;
  await rm(temporary, { force: true });
  try {
    const result = await execa("qemu-img", ["create", "-q", "-f", "qcow2", temporary, String(bytes)], { reject: false });
    if (result.failed) throw describeCommandFailure(`creating disk ${path} with qemu-img`, result);
    // qemu-img creates the file with the umask's mode, often 0644.
    await chmod(temporary, 0o600);
    faultPoint("disk-create-before-link");
    await link(temporary, path);
    faultPoint("disk-create-after-link");
  } finally {
    await rm(temporary, { force: true });
  }
};

/** Grows a stopped VM's qcow2 disk to `bytes`. */
export const growDisk = async (path: string, bytes: number): Promise<void> => {
  const result = await execa("qemu-img", ["resize", "-q", "-f", "qcow2", path, String(bytes)], { reject: false });
  if (result.failed) throw describeCommandFailure("qemu-img resize", result);
};
