// Watch latency: the time from a save of sites.yaml to the start of the first
// action of the reconcile it causes, median of 20 saves, with the service's
// default debounce. Each save adds one site, whose create-disk is the action.

import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./measure.js";

const bin = fileURLToPath(new URL("../dist/bin/ffvm.cjs", import.meta.url));

const sitesYaml = (runner, count) => {
  const sites = Array.from({ length: count }, (_, index) => `  site-${index}:\n    url: https://site-${index}.example/\n`).join("");
  const list = count === 0 ? "sites: {}\n" : `sites:\n${sites}`;
  return `defaults:\n  disk: 64M\n${list}image:\n  runner: ${runner}\n`;
};

export const benchWatchLatency = async ({ saves = 20 }) => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-bench-watch-"));
  const runner = join(dir, "run-bench-vm");
  writeFileSync(runner, "#!/bin/sh\nexit 1\n");
  chmodSync(runner, 0o755);
  const config = join(dir, "sites.yaml");
  writeFileSync(config, sitesYaml(runner, 0));

  const watch = spawn(process.execPath, [bin, "watch", "--config", config, "--state-dir", join(dir, "state")], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let buffer = "";
  const waiters = [];
  watch.stderr.setEncoding("utf8");
  watch.stderr.on("data", (chunk) => {
    buffer += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(buffer)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(process.hrtime.bigint());
      }
    }
  });
  const waitFor = (pattern, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      if (pattern.test(buffer)) return resolve(process.hrtime.bigint());
      const timer = setTimeout(() => reject(new Error(`watch printed no ${pattern} within ${timeoutMs} ms:\n${buffer}`)), timeoutMs);
      waiters.push({ pattern, resolve: (time) => { clearTimeout(timer); resolve(time); } });
    });

  try {
    // The first reconcile at start finds nothing to do; then the service is watching.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const latencies = [];
    for (let save = 1; save <= saves; save++) {
      // Saved as editors do: written to a temporary file, then renamed over sites.yaml.
      const temporary = join(dir, `.sites.yaml.${save}`);
      writeFileSync(temporary, sitesYaml(runner, save));
      const savedAt = process.hrtime.bigint();
      renameSync(temporary, config);
      const startedAt = await waitFor(new RegExp(`site-${save - 1} create-disk started`));
      latencies.push(Number(startedAt - savedAt) / 1e6);
      await waitFor(new RegExp(`site-${save - 1} create-disk DiskMissing done`));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const value = median(latencies);
    return [`watch latency, save to first action, median of ${saves} saves: ${value.toFixed(0)} ms  (target < 250 ms: ${value < 250 ? "met" : "MISSED"})`];
  } finally {
    watch.kill("SIGTERM");
    await new Promise((resolve) => watch.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
};
