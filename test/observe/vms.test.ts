// observeVm against real processes that carry a VM's arguments: a runner
// that has not exec'd QEMU yet, and a process named like QEMU.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createProcessIndex, observeVm } from "../../src/observe/vms.js";
import { readStartTime } from "../../src/observe/processes.js";
import { qmpOption, runFilesIn } from "../../src/qemu/args.js";
import { statePaths } from "../../src/state/paths.js";
import type { VmRecord } from "../../src/state/records.js";

const dir = mkdtempSync(join(tmpdir(), "ffvm-observe-vms-"));
const paths = statePaths(join(dir, "state"));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Starts a shell that sleeps, with the site's -name and -qmp among its arguments, run as `program`.
const startProcess = async (site: string, program = "/bin/sh"): Promise<{ pid: number; startTime: number }> => {
  const option = qmpOption(runFilesIn(paths.runDir(site)));
  // "; true" keeps the shell from replacing itself with sleep, which would change its arguments.
  const child = spawn(program, ["-c", "sleep 60; true", "-name", `ffvm-${site}`, "-qmp", option], { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  for (let attempt = 0; attempt < 50; attempt++) {
    const startTime = readStartTime(child.pid!);
    if (startTime !== undefined) return { pid: child.pid!, startTime };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the test process did not appear in /proc");
};

const recordOf = (site: string, pid: number, startTime: number): VmRecord => ({
  version: 1,
  site,
  pid,
  startTime,
  startedAt: new Date().toISOString(),
  imageId: "image",
  settingsHash: "hash",
  disk: join(paths.disks, `${site}.qcow2`),
  ephemeral: false,
});

describe("observeVm", () => {
  it("finds runner under recorded pid", async () => {
    const runner = await startProcess("a");
    const observed = observeVm(paths, recordOf("a", runner.pid, runner.startTime), createProcessIndex());
    expect(observed).toMatchObject({ state: "running", pid: runner.pid });
  });

  it("finds runner by arguments without pid", async () => {
    const runner = await startProcess("b");
    expect(observeVm(paths, recordOf("b", 0, 0), createProcessIndex())).toMatchObject({ state: "running", pid: runner.pid });
    expect(observeVm(paths, recordOf("b", 0, 0))).toMatchObject({ state: "running", pid: runner.pid });
  });

  it("reads pidfile only without recorded pid", async () => {
    const program = join(dir, "qemu-system-x86_64");
    symlinkSync("/bin/sh", program);
    const qemu = await startProcess("c", program);
    mkdirSync(paths.runDir("c"), { recursive: true });
    writeFileSync(runFilesIn(paths.runDir("c")).pidFile, `${qemu.pid}\n`);
    expect(observeVm(paths, recordOf("c", 0, 0), createProcessIndex())).toMatchObject({ state: "running", pid: qemu.pid });
    expect(observeVm(paths, recordOf("c", 0, 0))).toMatchObject({ state: "running", pid: qemu.pid });
    // A record with a pid is of a start that finished, whose QEMU was that pid.
    expect(observeVm(paths, recordOf("c", qemu.pid, qemu.startTime), createProcessIndex())).toMatchObject({ state: "running", pid: qemu.pid });
    expect(observeVm(paths, recordOf("c", 4_194_305, 1), createProcessIndex())).toMatchObject({ state: "dead" });
  });

  it("judges recorded pid by its arguments", async () => {
    const runner = await startProcess("d");
    // Another site's process under the recorded pid is not this site's VM.
    expect(observeVm(paths, recordOf("e", runner.pid, runner.startTime), createProcessIndex())).toMatchObject({ state: "dead" });
    // This site's runner is its VM, even when the record's start time differs.
    expect(observeVm(paths, recordOf("d", runner.pid, runner.startTime + 1), createProcessIndex())).toMatchObject({ state: "running", pid: runner.pid, record: { startTime: runner.startTime } });
  });

  it("reports gone pid as dead", () => {
    expect(observeVm(paths, recordOf("f", 999_999_999, 1), createProcessIndex())).toMatchObject({ state: "dead", pid: 999_999_999 });
  });
});
