// nix invocations when one shared module of the image changes, for 1, 10 and
// 100 sites, beside the count of a design that builds one image per site.
// Uses the offline fixture flake, so it needs nix but no network.

import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../dist/bin/ffvm.cjs", import.meta.url));
const fixture = fileURLToPath(new URL("../test/fixtures/image-flake", import.meta.url));
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nbuild-users-group =\nwarn-dirty = false";

const countBuilds = (siteCount) => {
  const dir = mkdtempSync(join(tmpdir(), `ffvm-bench-image-${siteCount}-`));
  const flake = join(dir, "flake");
  cpSync(fixture, flake, { recursive: true });
  const module = join(flake, "guest.nix");
  writeFileSync(module, readFileSync(module, "utf8").replace("@GUEST_RUNNER@", "/bin/false").replace('revision = "1"', `revision = "bench-${Date.now()}"`));

  // A nix on PATH that logs each call before running the real one.
  const realNix = spawnSync("sh", ["-c", "command -v nix"], { encoding: "utf8" }).stdout.trim();
  if (realNix === "") throw new Error("nix is not installed");
  const countingBin = join(dir, "bin");
  const log = join(dir, "nix-calls.log");
  mkdirSync(countingBin);
  writeFileSync(join(countingBin, "nix"), `#!/bin/sh\necho call >> '${log}'\nexec '${realNix}' "$@"\n`);
  chmodSync(join(countingBin, "nix"), 0o755);

  const sites = Array.from({ length: siteCount }, (_, index) => `  site-${index}:\n    url: https://site-${index}.example/\n`).join("");
  const config = join(dir, "sites.yaml");
  writeFileSync(config, `defaults:\n  disk: 64M\nsites:\n${sites}image:\n  flake: ./flake\n`);
  const env = { ...process.env, NIX_CONFIG: nixConfig, PATH: `${countingBin}:${process.env.PATH}` };
  const reconcile = () => {
    const result = spawnSync(process.execPath, [bin, "reconcile", "--config", config, "--state-dir", join(dir, "state"), "--jobs", "8"], { env, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`reconcile of ${siteCount} sites failed: ${result.stderr}`);
  };
  const calls = () => readFileSync(log, "utf8").split("\n").filter((line) => line !== "").length;

  reconcile();
  const afterFirst = calls();
  writeFileSync(module, readFileSync(module, "utf8").replace(/revision = "[^"]*"/, 'revision = "changed"'));
  reconcile();
  const afterChange = calls() - afterFirst;
  reconcile();
  const afterNoop = calls() - afterFirst - afterChange;
  rmSync(dir, { recursive: true, force: true });
  return { afterFirst, afterChange, afterNoop };
};

export const benchImageBuilds = () =>
  [1, 10, 100].map((count) => {
    const { afterFirst, afterChange, afterNoop } = countBuilds(count);
    const met = afterChange === 1 && afterNoop === 0 ? "met" : "MISSED";
    return `image builds, ${String(count).padStart(3)} sites: first ${afterFirst}, after one module change ${afterChange}, unchanged ${afterNoop}; one build per site would run ${count}  (target 1 and 0: ${met})`;
  });
