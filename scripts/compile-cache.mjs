// Writes V8's compiled code for the files of dist/bin/ next to them, by running
// commands that read and change nothing outside a temporary directory, with
// FFVM_WRITE_COMPILE_CACHE=1 (src/cli/compile-cache.ts). The caches then hold
// the functions these commands compiled; others compile on first use.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The executable to run: the one in dist/bin/, or another given as the argument.
const bin = process.argv[2] ?? new URL("../dist/bin/ffvm.cjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ffvm-compile-cache-"));
try {
  const runner = join(dir, "run-vm");
  writeFileSync(runner, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
  chmodSync(runner, 0o755);
  const sites = Array.from({ length: 20 }, (_, index) => `  site-${index}:\n    url: https://site-${index}.example/\n    memory: 1024\n`).join("");
  const config = join(dir, "sites.yaml");
  writeFileSync(config, `defaults:\n  disk: 64M\n  addons: [ublock-origin]\nsites:\n${sites}image:\n  runner: ${runner}\n`);
  const state = join(dir, "state");
  const commands = [
    ["validate", "--config", config],
    ["reconcile", "--dry-run", "--config", config, "--state-dir", state],
    ["status", "--config", config, "--state-dir", state],
  ];
  for (const args of commands) {
    const result = spawnSync(process.execPath, [bin, ...args], {
      encoding: "utf8",
      env: { ...process.env, FFVM_WRITE_COMPILE_CACHE: "1", NO_COLOR: "1" },
    });
    if (result.status !== 0) throw new Error(`ffvm ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
