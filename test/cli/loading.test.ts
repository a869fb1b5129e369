// What the executable loads for commands that should cost little: node's
// crypto module, fs/promises (which brings streams and readline), and ffvm's
// files for applying plans and for the full YAML reader are left out.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ffvmBin } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ffvm-loading-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Runs the executable with a preload that writes node's module list and
// the files required at exit.
const loadedBy = (args: string[]): string[] => {
  const list = join(dir, "loaded.txt");
  const preload = join(dir, "preload.cjs");
  writeFileSync(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(list)}, [...process.moduleLoadList, ...Object.keys(require.cache)].join("\\n")));`,
  );
  const result = spawnSync(process.execPath, ["-r", preload, ffvmBin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(list, "utf8").split("\n");
};

describe("loading", () => {
  it("loads no command file for --version", () => {
    const loaded = loadedBy(["--version"]);
    expect(loaded.filter((entry) => entry.endsWith(".cjs") && !entry.endsWith("ffvm.cjs") && !entry.endsWith("preload.cjs"))).toEqual([]);
    expect(loaded).not.toContain("NativeModule crypto");
  });

  it("no-op reconcile skips heavy modules", () => {
    const runner = join(dir, "run-vm");
    writeFileSync(runner, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const config = join(dir, "sites.yaml");
    writeFileSync(config, `sites:\n  bank:\n    url: https://bank.example/\n    memory: 1024\nimage:\n  runner: ${runner}\n`);
    const state = join(dir, "state");
    for (const folder of ["disks", "run", "vms", "trash"]) mkdirSync(join(state, folder), { recursive: true });
    // An existing disk, so that nothing is to be done.
    const header = Buffer.alloc(32);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(4n * 1024n ** 3n, 24);
    writeFileSync(join(state, "disks", "bank.qcow2"), header);
    const loaded = loadedBy(["reconcile", "--config", config, "--state-dir", state, "--detailed-exitcode"]);
    expect(loaded).not.toContain("NativeModule crypto");
    expect(loaded).not.toContain("NativeModule fs/promises");
    expect(loaded.filter((entry) => /(apply|yaml-full)\.cjs$/.test(entry))).toEqual([]);
  });
});
