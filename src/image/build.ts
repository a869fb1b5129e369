// Builds the shared image with nix and records it.

import { readdir } from "node:fs/promises";
import { execa } from "execa";
import type { ImageSource } from "../config/types.js";
import type { StatePaths } from "../state/paths.js";
import { writeImageRecord, recordFormatVersion, type ImageRecord } from "../state/records.js";
import { describeCommandFailure, escapeControl } from "../util/command-error.js";
import { faultPoint } from "../util/fault-point.js";
import { fingerprintFlake } from "./fingerprint.js";

// Flakes are still an experimental feature of nix; enabling them per call
// spares the person editing nix.conf.
const nixFeatureArgs = ["--extra-experimental-features", "nix-command flakes"];

export interface BuildOptions {
  /** Called with each line nix prints while building. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs `nix build` on the flake with an out-link in the state directory (a GC
 * root), finds the runner in the result and records the build. A failed build
 * leaves the previous record and out-link as they were.
 */
export const buildImage = async (source: Extract<ImageSource, { kind: "flake" }>, paths: StatePaths, options: BuildOptions = {}): Promise<ImageRecord> => {
  // Fingerprint before building, so an edit made during the build triggers another.
  const fingerprint = fingerprintFlake(source.flake);
  const installable = `path:${source.flake}#${source.attribute}`;
  const child = execa("nix", [...nixFeatureArgs, "build", installable, "--out-link", paths.imageLink, "--json", "--print-build-logs"], {
    reject: false,
    cancelSignal: options.signal,
    stdin: "ignore",
  });
  child.stderr?.setEncoding("utf8");
  let pending = "";
  child.stderr?.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line.trim() !== "") options.onOutput?.(escapeControl(line));
  });
  const result = await child;
  if (result.failed) throw describeCommandFailure(`nix build ${installable}`, result);
  faultPoint("image-build-after-nix");

  const outPath = parseOutPath(result.stdout);
  const runner = await findRunner(outPath);
  const record: ImageRecord = { version: recordFormatVersion, fingerprint, outPath, runner, builtAt: new Date().toISOString() };
  await writeImageRecord(paths, record);
  return record;
};

const parseOutPath = (stdout: string): string => {
  const parsed = JSON.parse(stdout) as { outputs?: { out?: string } }[];
  const outPath = parsed[0]?.outputs?.out;
  if (outPath === undefined) throw new Error(`nix build printed no out path: ${stdout.slice(0, 200)}`);
  return outPath;
};

/** Finds bin/run-<hostname>-vm in a built image. */
export const findRunner = async (outPath: string): Promise<string> => {
  let entries: string[];
  try {
    entries = await readdir(`${outPath}/bin`);
  } catch {
    entries = [];
  }
  const runner = entries.find((name) => /^run-.+-vm$/.test(name));
  if (runner === undefined) {
    throw new Error(`${outPath}/bin contains no run-<hostname>-vm script; the image attribute must build a NixOS config.system.build.vm`);
  }
  return `${outPath}/bin/${runner}`;
};
