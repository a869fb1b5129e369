// Paths in sites.yaml are relative to the file, or start with ~ for the home directory.

import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** Resolves a path written in sites.yaml to an absolute path. */
export const resolveConfigPath = (configFile: string, written: string): string => {
  if (written === "~") return homedir();
  if (written.startsWith("~/")) return join(homedir(), written.slice(2));
  if (isAbsolute(written)) return written;
  return resolve(dirname(configFile), written);
};
