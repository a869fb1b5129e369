// A reconcile with nothing to do, for 10, 100 and 1000 sites with real qcow2
// disks and VM records: its wall time against `node -e 0`, and the number of
// child processes it starts (the target is none).

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareCommands, formatRatio } from "./measure.js";

const bin = fileURLToPath(new URL("../dist/bin/ffvm.cjs", import.meta.url));
const node = process.execPath;

const limits = { 10: undefined, 100: 1.3, 1000: 2 };

// Builds a state directory in which every site already has its disk, so a
// reconcile finds nothing to do.
const prepare = (count) => {
  const dir = mkdtempSync(join(tmpdir(), `ffvm-bench-${count}-`));
  const runner = join(dir, "run-bench-vm");
  writeFileSync(runner, "#!/bin/sh\nexit 1\n");
  chmodSync(runner, 0o755);
  const sites = Array.from({ length: count }, (_, index) => `  site-${index}:\n    url: https://site-${index}.example/\n`).join("");
  const config = join(dir, "sites.yaml");
  writeFileSync(config, `defaults:\n  disk: 64M\nsites:\n${sites}image:\n  runner: ${runner}\n`);
  const state = join(dir, "state");
  const first = spawnSync(node, [bin, "reconcile", "--config", config, "--state-dir", state, "--jobs", "8"], { encoding: "utf8" });
  if (first.status !== 0) throw new Error(`preparing ${count} sites failed: ${first.stderr}`);

  // Records and logs of VMs that ran once: observe reads each record and checks /proc.
  mkdirSync(join(state, "vms"), { recursive: true });
  for (let index = 0; index < count; index++) {
    const runDir = join(state, "run", `site-${index}`);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "qemu.log"), "qemu-system-x86_64: terminating on signal 15\n");
    writeFileSync(join(runDir, "serial.log"), "ffvm-guest: ready\n");
    const record = { version: 1, site: `site-${index}`, pid: 999_999, startTime: 1, startedAt: new Date().toISOString(), imageId: "x", settingsHash: "x", disk: join(state, "disks", `site-${index}.qcow2`), ephemeral: false };
    writeFileSync(join(state, "vms", `site-${index}.json`), JSON.stringify(record));
  }
  return { dir, args: [bin, "reconcile", "--config", config, "--state-dir", state, "--detailed-exitcode"] };
};

// Counts the processes a command starts with strace, which sees every execve.
const countChildren = (args, dir) => {
  const output = join(dir, "strace.log");
  const trace = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-o", output, node, ...args], { encoding: "utf8" });
  if (trace.error !== undefined) return "strace not installed";
  const execs = readFileSync(output, "utf8").split("\n").filter((line) => /execve\(/.test(line) && !/= -1/.test(line));
  // The first execve is node itself.
  return String(execs.length - 1);
};

export const benchNoopReconcile = ({ runs, counts = [10, 100, 1000] }) => {
  const lines = [];
  for (const count of counts) {
    const { dir, args } = prepare(count);
    const noop = spawnSync(node, args, { encoding: "utf8" });
    if (noop.status !== 0) throw new Error(`the no-op reconcile of ${count} sites is not a no-op: ${noop.stdout}${noop.stderr}`);
    const result = compareCommands({ baseline: { command: node, args: ["-e", "0"] }, target: { command: node, args }, runs });
    lines.push(`${formatRatio(`no-op reconcile, ${count} sites / node -e 0`, result, limits[count])}  children: ${countChildren(args, dir)}`);
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
};

