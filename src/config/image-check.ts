// Checks that an image: named in sites.yaml exists, so that a typo is caught by
// validate and not at the first VM start, after disks were made.

import { statSync } from "node:fs";
import { formatKeyPath, showValue, type ConfigProblem } from "./errors.js";
import { locate, type LoadedConfig } from "./load.js";
import { resolveConfigPath } from "./paths.js";

/**
 * Returns a problem for an image.flake directory without flake.nix or a
 * missing image.runner. The default ./nix, used when image: is absent, is not
 * checked, so that a sites.yaml without image: can still be planned anywhere.
 */
export const checkImagePresent = (config: LoadedConfig): ConfigProblem[] => {
  const image = (config.data as { image?: { flake?: unknown; runner?: unknown } }).image;
  const problems: ConfigProblem[] = [];
  const report = (key: "flake" | "runner", message: string, fix: string): void => {
    problems.push({ file: config.file, ...locate(config, ["image", key]), key: formatKeyPath(["image", key]), message, fix, severity: "error" });
  };
  if (typeof image?.flake === "string") {
    const dir = resolveConfigPath(config.file, image.flake);
    if (!isFile(`${dir}/flake.nix`)) report("flake", `flake ${showValue(image.flake)} not found: ${dir}/flake.nix does not exist`, "point flake: at the directory that holds flake.nix");
  }
  if (typeof image?.runner === "string") {
    const runner = resolveConfigPath(config.file, image.runner);
    if (!isFile(runner)) report("runner", `runner ${showValue(image.runner)} not found at ${runner}`, "build the image (nix build ./nix#vm) and point runner: at result/bin/run-<host>-vm");
  }
  return problems;
};

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};
