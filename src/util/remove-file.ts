// Removing one file that may be missing.

import { unlinkSync } from "node:fs";

/**
 * Removes a file; a missing one is fine. Unlike rmSync with force, it loads
 * no recursive-removal code, which a command that removes one file pays for.
 */
export const removeFile = (path: string): void => {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
};
