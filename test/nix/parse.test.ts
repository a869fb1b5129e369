// Parses every .nix file in the repository with `nix-instantiate --parse`, so a
// syntax error shows up here and not first in a Nix build, which needs nixpkgs
// and network access. Needs nix-instantiate on the PATH (Debian: nix-bin).

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

// Dependencies and version-control data, which contain no Nix files of this project.
const skippedDirectories = new Set(["node_modules", ".git"]);

// Files the walk must find, so that a broken walk cannot pass by finding nothing.
const expectedFiles = [
  "nix/flake.nix",
  "nix/modules/guest.nix",
  "nix/package.nix",
  "test/fixtures/image-flake/flake.nix",
  "test/fixtures/image-flake/guest.nix",
];

/** Returns the .nix files under `dir`, relative to the repository root. Symbolic links are not followed. */
const findNixFiles = (dir: string): string[] => {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skippedDirectories.has(entry.name)) files.push(...findNixFiles(path));
    } else if (entry.isFile() && entry.name.endsWith(".nix")) {
      files.push(relative(repoRoot, path));
    }
  }
  return files.sort();
};

const nixFiles = findNixFiles(repoRoot);

describe("nix-instantiate --parse", () => {
  it("finds the project's Nix files", () => {
    for (const file of expectedFiles) {
      expect(nixFiles, `${file} was not found under ${repoRoot}`).toContain(file);
    }
  });

  it.each(nixFiles)("parses %s", (file) => {
    const result = spawnSync("nix-instantiate", ["--parse", file], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 30_000,
    });
    if (result.error !== undefined) {
      throw new Error(`nix-instantiate could not be started: ${result.error.message}. Install Nix (Debian package nix-bin).`);
    }
    expect(result.status, `nix-instantiate --parse ${file} failed:\n${result.stderr}`).toBe(0);
  });
});
