// Login: N pinned test-guest VMs started by one reconcile with start
// concurrency 1, 2 and 4, timed until every guest reports ready on its serial
// log, against ceil(N / k) single boots measured in the same run.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../dist/bin/ffvm.cjs", import.meta.url));
const guestBuild = fileURLToPath(new URL("../test/guest/build.sh", import.meta.url));
const guestDir = fileURLToPath(new URL("../test/.cache/guest", import.meta.url));
const env = { ...process.env, FFVM_ALLOW_ROOT: "1", NO_COLOR: "1" };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts `count` pinned VMs with `jobs` at a time; returns ms until all are ready.
const bootAll = async (count, jobs) => {
  const dir = mkdtempSync(join(tmpdir(), `ffvm-bench-login-`));
  const state = join(dir, "state");
  const config = join(dir, "sites.yaml");
  const sites = Array.from({ length: count }, (_, index) => `  vm-${index}:\n    url: https://vm-${index}.example/\n    pinned: true\n`).join("");
  writeFileSync(config, `defaults:\n  memory: 256\n  cpus: 1\n  disk: 64M\nsites:\n${sites}image:\n  runner: ${join(guestDir, "bin", "run-testguest-vm")}\n`);
  const args = ["--config", config, "--state-dir", state];

  const started = Date.now();
  const result = spawnSync(process.execPath, [bin, "reconcile", "--jobs", String(jobs), ...args], { env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`login reconcile failed: ${result.stderr}`);
  const logs = Array.from({ length: count }, (_, index) => join(state, "run", `vm-${index}`, "serial.log"));
  const isReady = (log) => existsSync(log) && readFileSync(log, "utf8").includes("ffvm-guest: ready");
  while (!logs.every(isReady)) {
    if (Date.now() - started > 300_000) throw new Error("VMs did not report ready within 5 minutes");
    await sleep(50);
  }
  const elapsed = Date.now() - started;

  writeFileSync(config, `sites: {}\nimage:\n  runner: /bin/false\n`);
  spawnSync(process.execPath, [bin, "reconcile", "--force", ...args], { env });
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
};

export const benchLogin = async ({ count = 4 } = {}) => {
  const build = spawnSync("bash", [guestBuild, guestDir], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`test guest build failed: ${build.stderr}`);
  const single = await bootAll(1, 1);
  const lines = [`login: one VM boots to ready in ${(single / 1000).toFixed(1)} s (baseline)`];
  for (const jobs of [1, 2, 4]) {
    const elapsed = await bootAll(count, jobs);
    const expected = Math.ceil(count / jobs) * single;
    lines.push(`login: ${count} pinned VMs, --jobs ${jobs}: ${(elapsed / 1000).toFixed(1)} s, ${(elapsed / expected).toFixed(2)}× of ceil(${count}/${jobs}) single boots`);
  }
  return lines;
};
