// Reads the virtual size from a qcow2 header, so observing disks spawns no qemu-img.

import { open } from "node:fs/promises";

const qcow2Magic = 0x514649fb; // "QFI\xfb"

export interface Qcow2Info {
  version: number;
  /** Virtual disk size in bytes. */
  virtualSize: number;
}

/** Reads a qcow2 header; throws when the file is not qcow2. */
export const readQcow2Header = async (path: string): Promise<Qcow2Info> => {
  const handle = await open(path, "r");
  try {
    const header = Buffer.alloc(32);
    const { bytesRead } = await handle.read(header, 0, 32, 0);
    if (bytesRead < 32 || header.readUInt32BE(0) !== qcow2Magic) {
      throw new Error(`${path} is not a qcow2 image (bad magic or short header)`);
    }
    return { version: header.readUInt32BE(4), virtualSize: Number(header.readBigUInt64BE(24)) };
  } finally {
    await handle.close();
  }
};
