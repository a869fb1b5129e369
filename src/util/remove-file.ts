// Removing one file that may be missing.

import { unlinkSync } from "node:fs";

/**
 * Removes a file unless it is missing. Unlike rmSync with force, it loads no
 * recursive-removal code, which would slow a command that removes one file.
 */
export const removeFile = (path: string): void => {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
};
