// Content fingerprint of an image source, read from files alone so that an
// unchanged image costs no nix process.

import { readdirSync, readFileSync, lstatSync } from "node:fs";
import { join, relative } from "node:path";
import { createSha256 } from "../util/sha256.js";

// Folders and links that never belong to a flake's source.
const ignoredNames = new Set([".git", "node_modules", ".direnv"]);

/**
 * Hashes every regular file under a flake directory (flake.nix, flake.lock,
 * modules, scripts) by path and content. Symbolic links such as nix's
 * `result` out-links are skipped, so building does not change the fingerprint.
 * NOTE: every file counts, also those the image does not use, such as
 * nix/package.nix and the service modules. A change to one of them runs one
 * nix build, which finds the image's out path unchanged and takes seconds.
 */
export const fingerprintFlake = (dir: string): string => {
  const hash = createSha256();
  for (const file of listFiles(dir)) {
    const content = readFileSync(file);
    hash.update(`${relative(dir, file)}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex");
};

/** Hashes a prebuilt runner script, whose text names the store paths it starts. */
export const fingerprintRunner = (runner: string): string =>
  `runner:${createSha256().update(readFileSync(runner)).digest("hex").slice(0, 32)}`;

const listFiles = (dir: string): string[] => {
  const files: string[] = [];
  const visit = (current: string): void => {
    const entries = readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (ignoredNames.has(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  visit(dir);
  return files;
};

/** Tells whether a path exists without following a final symbolic link's absence silently. */
export const pathExists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};
