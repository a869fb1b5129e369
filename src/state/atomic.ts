// Atomic file writes: a crash or a full disk leaves either the old file or the
// new one, never a partial file.

import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` through a temporary file, fsync and rename; mode
 * 0600 by default. The temporary file is .<name>.<pid>.tmp next to `path`,
 * or `temporary`, which must be on the same file system.
 */
export const writeFileAtomic = async (
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
  temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`),
): Promise<void> => {
  try {
    const handle = await open(temporary, "w", mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw describeWriteError(path, error);
  }
  await syncDirectory(dirname(path));
};

/** Returns an error that names the file a write failed on and, for a full file system, the fix; the errno code is kept. */
export const describeWriteError = (path: string, error: unknown): Error => {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOSPC" || code === "EDQUOT"
      ? `the file system is full (${code}); free space on it and run ffvm again`
      : (error as Error).message;
  return Object.assign(new Error(`writing ${path} failed: ${reason}`, { cause: error }), { code });
};

/** Writes a value as JSON atomically. */
export const writeJsonAtomic = (path: string, value: unknown): Promise<void> =>
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);

// Makes a rename durable: the new directory entry reaches the disk.
export const syncDirectory = async (dir: string): Promise<void> => {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};
