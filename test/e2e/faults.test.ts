// Faults cost nothing. ffvm is killed with SIGKILL at every fault point of an
// apply (src/util/fault-point.ts). Records name another process, runners and
// QEMUs fail or hang, the state directory fills up, and a QEMU that ffvm did
// not start holds a disk. After each, the next run converges, no disk is lost
// or opened twice, and no foreign process gets a signal.

import { spawn, type ChildProcess } from "node:child_process";
import { chownSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runnerPath, waitForGuestLine } from "../helpers/guest.js";
import {
  fileUsers,
  isAlive,
  killProcessesMentioning,
  leftoverFiles,
  makeWorkspace,
  passtProcesses,
  qemuProcesses,
  readStartTime,
  waitFor,
  walk,
  writeScript,
  writeSites,
  type Workspace,
} from "../helpers/vm-host.js";
import { launchVm } from "../../src/vm/launch.js";
import { statePaths, ensureStateDirs } from "../../src/state/paths.js";
import type { Site } from "../../src/config/types.js";

const bootTimeoutMs = 60_000;
const fixtureFlake = fileURLToPath(new URL("../fixtures/image-flake", import.meta.url));
const nixConfig = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nbuild-users-group =\nwarn-dirty = false";

const workspaces: Workspace[] = [];
const workspace = (prefix: string): Workspace => {
  const created = makeWorkspace(prefix);
  workspaces.push(created);
  return created;
};

afterAll(async () => {
  for (const { dir } of workspaces) {
    await killProcessesMentioning(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

const readRecord = (ws: Workspace, site: string): { pid: number; startTime: number } =>
  JSON.parse(readFileSync(ws.record(site), "utf8")) as { pid: number; startTime: number };

// Checks the state a converged run leaves for one pinned site: one QEMU with
// the disk open, one passt, no leftovers, and a plan with no changes.
const expectOneVm = async (ws: Workspace, site: string): Promise<number> => {
  const qemus = qemuProcesses(ws.state, site);
  expect(qemus.map((entry) => entry.pid)).toHaveLength(1);
  const pid = qemus[0]!.pid;
  expect(fileUsers(ws.disk(site))).toEqual([pid]);
  expect(passtProcesses(ws.state, site)).toHaveLength(1);
  expect(leftoverFiles(ws.state)).toEqual([]);
  const plan = await ws.cli(["reconcile", "--dry-run", "--detailed-exitcode"]);
  expect(plan.stdout).toContain("No changes");
  expect(plan.exitCode).toBe(0);
  return pid;
};

describe("ffvm killed at a fault point", () => {
  afterEach(async () => {
    for (const { dir } of workspaces) await killProcessesMentioning(dir);
  });

  it.each(["disk-create-before-link", "disk-create-after-link", "vm-start-after-record", "vm-start-after-passt"])(
    "converges after a kill at %s",
    async (point) => {
      const ws = workspace("ffvm-fault-");
      writeSites(ws.config, [{ name: "crash", pinned: true }]);

      const killed = await ws.cli(["reconcile"], { FFVM_FAULT_POINT: point });
      expect(killed.signal).toBe("SIGKILL");
      expect(qemuProcesses(ws.state, "crash")).toEqual([]);

      const again = await ws.cli(["reconcile"]);
      expect(again.stderr).toMatch(/crash start-vm PinnedNotRunning done/);
      expect(again.exitCode).toBe(0);
      await waitForGuestLine(ws.serialLog("crash"), /^ready$/, bootTimeoutMs);
      await expectOneVm(ws, "crash");
      expect(readdirSync(`${ws.state}/disks`)).toEqual(["crash.qcow2"]);
    },
  );

  it.each(["vm-start-after-spawn", "vm-start-after-qmp"])("adopts the QEMU of a kill at %s", async (point) => {
    const ws = workspace("ffvm-fault-");
    writeSites(ws.config, [{ name: "crash", pinned: true }]);

    const killed = await ws.cli(["reconcile"], { FFVM_FAULT_POINT: point });
    expect(killed.signal).toBe("SIGKILL");
    expect(readRecord(ws, "crash").pid).toBe(0);

    // Run at once, while QEMU may still be starting.
    const again = await ws.cli(["reconcile"]);
    expect(again.stdout).toContain("No changes");
    expect(again.exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("crash"), /^ready$/, bootTimeoutMs);
    const pid = await expectOneVm(ws, "crash");
    // A second start would have rotated the log of the first.
    expect(existsSync(`${ws.runDir("crash")}/qemu.log.1`)).toBe(false);
    expect(Number(readFileSync(`${ws.runDir("crash")}/qemu.pid`, "utf8").trim())).toBe(pid);

    const stopped = await ws.cli(["stop", "crash"]);
    expect(stopped.stderr).toMatch(/stopped \(powerdown\)/);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(ws.record("crash"))).toBe(false);
  });

  it("waits for a runner killed before QEMU", async () => {
    const ws = workspace("ffvm-fault-");
    // The runner takes 3 s before it execs QEMU, so the next run finds no
    // QEMU and no pidfile, only the runner.
    const runner = writeScript(`${ws.dir}/runner`, `sleep 3\nexec ${runnerPath()} "$@"`);
    writeSites(ws.config, [{ name: "crash", pinned: true }], runner);

    const killed = await ws.cli(["reconcile"], { FFVM_FAULT_POINT: "vm-start-after-spawn" });
    expect(killed.signal).toBe("SIGKILL");
    const again = await ws.cli(["reconcile"]);
    expect(again.stdout).toContain("No changes");
    expect(again.exitCode).toBe(0);
    expect(qemuProcesses(ws.state, "crash")).toEqual([]);

    await waitForGuestLine(ws.serialLog("crash"), /^ready$/, bootTimeoutMs);
    await expectOneVm(ws, "crash");
    expect(existsSync(`${ws.runDir("crash")}/qemu.log.1`)).toBe(false);
  });

  it("keeps the disk after a kill at vm-stop-after-exit", async () => {
    const ws = workspace("ffvm-fault-");
    writeSites(ws.config, [{ name: "crash", pinned: true }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("crash"), /^marker-written=boot-1$/, bootTimeoutMs);
    const first = qemuProcesses(ws.state, "crash")[0]!.pid;

    const killed = await ws.cli(["stop", "crash"], { FFVM_FAULT_POINT: "vm-stop-after-exit" });
    expect(killed.signal).toBe("SIGKILL");
    expect(isAlive(first)).toBe(false);
    expect(existsSync(ws.record("crash"))).toBe(true);

    const again = await ws.cli(["reconcile"]);
    expect(again.exitCode).toBe(0);
    // The guest found the marker of its first boot on the disk.
    await waitForGuestLine(ws.serialLog("crash"), /^marker=boot-1$/, bootTimeoutMs);
    await expectOneVm(ws, "crash");
  });

  it("rebuilds after a kill at image-build-after-nix", async () => {
    const ws = workspace("ffvm-fault-");
    const flake = `${ws.dir}/flake`;
    cpSync(fixtureFlake, flake, { recursive: true });
    const guestModule = `${flake}/guest.nix`;
    writeFileSync(guestModule, readFileSync(guestModule, "utf8").replace("@GUEST_RUNNER@", runnerPath()));
    writeSites(ws.config, [{ name: "crash", pinned: true }]);
    writeFileSync(ws.config, readFileSync(ws.config, "utf8").replace(/^image:\n.*$/m, "image:\n  flake: ./flake"));
    // nix as in test/e2e/image.test.ts: offline, without a daemon or build users.
    const env = { NIX_CONFIG: nixConfig };

    const killed = await ws.cli(["reconcile"], { ...env, FFVM_FAULT_POINT: "image-build-after-nix" });
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(`${ws.state}/image.json`)).toBe(false);
    expect(qemuProcesses(ws.state, "crash")).toEqual([]);

    const again = await ws.cli(["reconcile"], env);
    expect(again.stderr).toMatch(/\(image\) build-image ImageNeverBuilt done/);
    expect(again.stderr).toMatch(/crash start-vm PinnedNotRunning done/);
    expect(again.exitCode).toBe(0);
    const record = JSON.parse(readFileSync(`${ws.state}/image.json`, "utf8")) as { outPath: string };
    expect(readlinkSync(`${ws.state}/image-result`)).toBe(record.outPath);
    await waitForGuestLine(ws.serialLog("crash"), /^ready$/, bootTimeoutMs);
    const qemus = qemuProcesses(ws.state, "crash");
    expect(qemus).toHaveLength(1);
    expect(leftoverFiles(ws.state)).toEqual([]);
    const plan = await ws.cli(["reconcile", "--dry-run", "--detailed-exitcode"], env);
    expect(plan.exitCode).toBe(0);
  });

  it("keeps the disk after a kill at disk-trash-after-rename", async () => {
    const ws = workspace("ffvm-fault-");
    writeSites(ws.config, [{ name: "gone" }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    const inode = statSync(ws.disk("gone")).ino;

    writeSites(ws.config, []);
    const killed = await ws.cli(["reconcile", "--force"], { FFVM_FAULT_POINT: "disk-trash-after-rename" });
    expect(killed.signal).toBe("SIGKILL");

    const again = await ws.cli(["reconcile", "--force"]);
    expect(again.exitCode).toBe(0);
    const trash = readdirSync(`${ws.state}/trash`);
    expect(trash).toEqual([expect.stringMatching(/^gone-\d{8}T\d{6}Z\.qcow2$/)]);
    expect(statSync(`${ws.state}/trash/${trash[0]}`).ino).toBe(inode);
    expect(readdirSync(`${ws.state}/disks`)).toEqual([]);
    expect(leftoverFiles(ws.state)).toEqual([]);
    const plan = await ws.cli(["reconcile", "--dry-run", "--detailed-exitcode"]);
    expect(plan.exitCode).toBe(0);
  });
});

describe("record whose pid is another process", () => {
  let sleeper: ChildProcess | undefined;

  afterEach(async () => {
    sleeper?.kill("SIGKILL");
    sleeper = undefined;
    for (const { dir } of workspaces) await killProcessesMentioning(dir);
  });

  // Starts a sleep and returns its pid and start time.
  const startSleep = async (): Promise<{ pid: number; startTime: number }> => {
    sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
    const pid = sleeper.pid!;
    expect(await waitFor(() => readStartTime(pid) !== undefined, 2000)).toBe(true);
    return { pid, startTime: readStartTime(pid)! };
  };

  const writeRecord = (ws: Workspace, site: string, pid: number, startTime: number): void => {
    mkdirSync(`${ws.state}/vms`, { recursive: true, mode: 0o700 });
    const record = {
      version: 1,
      site,
      pid,
      startTime,
      startedAt: new Date().toISOString(),
      imageId: "forged",
      settingsHash: "forged",
      disk: ws.disk(site),
      ephemeral: false,
    };
    writeFileSync(ws.record(site), JSON.stringify(record), { mode: 0o600 });
  };

  it.each([
    ["another start time", false],
    ["the same start time", true],
  ])("never signals a sleep with %s", async (_, sameStartTime) => {
    const ws = workspace("ffvm-forged-");
    // Ephemeral, so no disk: a removed site's record is then cleared through stop-vm.
    writeSites(ws.config, [{ name: "forged", lines: ["ephemeral: true"] }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    const sleep = await startSleep();
    writeRecord(ws, "forged", sleep.pid, sameStartTime ? sleep.startTime : sleep.startTime + 1);

    const status = await ws.cli(["status", "--json"]);
    expect(status.stdout).not.toContain(`"pid": ${sleep.pid}`);
    const stop = await ws.cli(["stop", "forged"]);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toContain("forged is not running");

    // A removed site's dead record is cleared without a signal.
    writeSites(ws.config, []);
    const removed = await ws.cli(["reconcile", "--force"]);
    expect(removed.stderr).toMatch(/forged stop-vm SiteRemoved/);
    expect(removed.exitCode).toBe(0);
    expect(existsSync(ws.record("forged"))).toBe(false);
    expect(readStartTime(sleep.pid)).toBe(sleep.startTime);
  });

  it("starts a real VM in place of a sleep", async () => {
    const ws = workspace("ffvm-forged-");
    writeSites(ws.config, [{ name: "forged", pinned: true }]);
    const sleep = await startSleep();
    writeRecord(ws, "forged", sleep.pid, sleep.startTime);

    const result = await ws.cli(["reconcile"]);
    expect(result.stderr).toMatch(/forged start-vm PinnedNotRunning done/);
    expect(result.exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("forged"), /^ready$/, bootTimeoutMs);
    const pid = await expectOneVm(ws, "forged");
    expect(readRecord(ws, "forged").pid).toBe(pid);
    expect(readStartTime(sleep.pid)).toBe(sleep.startTime);
  });

  it("never stops the QEMU of another state directory", async () => {
    const owner = workspace("ffvm-owner-");
    const forger = workspace("ffvm-forged-");
    writeSites(owner.config, [{ name: "same", pinned: true }]);
    writeSites(forger.config, [{ name: "same" }]);
    expect((await owner.cli(["reconcile"])).exitCode).toBe(0);
    await waitForGuestLine(owner.serialLog("same"), /^ready$/, bootTimeoutMs);
    const qemu = readRecord(owner, "same");
    // Same site name, pid and start time: only the state directory differs.
    writeRecord(forger, "same", qemu.pid, qemu.startTime);

    const stop = await forger.cli(["stop", "same"]);
    expect(stop.stdout).toContain("same is not running");
    writeSites(forger.config, []);
    expect((await forger.cli(["reconcile", "--force"])).exitCode).toBe(0);
    expect(readStartTime(qemu.pid)).toBe(qemu.startTime);
    await expectOneVm(owner, "same");
  });
});

describe("runner and QEMU failures", () => {
  afterEach(async () => {
    for (const { dir } of workspaces) await killProcessesMentioning(dir);
  });

  it("shows the site and log of a runner that exits", async () => {
    const ws = workspace("ffvm-runner-");
    const runner = writeScript(`${ws.dir}/runner`, 'echo "fake-runner: cannot open /dev/kvm" >&2\necho "fake-runner: giving up"\nexit 3');
    writeSites(ws.config, [{ name: "broken", pinned: true }], runner);

    const result = await ws.cli(["reconcile"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/broken start-vm PinnedNotRunning failed after [\d.]+ s: QEMU of broken exited during start-up/);
    expect(result.stderr).toContain("fake-runner: cannot open /dev/kvm");
    expect(result.stderr).toContain("fake-runner: giving up");
    expect(passtProcesses(ws.state, "broken")).toEqual([]);
    expect(existsSync(ws.record("broken"))).toBe(false);
    expect(existsSync(`${ws.runDir("broken")}/site.tar`)).toBe(false);
    expect(leftoverFiles(ws.state)).toEqual([]);
  });

  it("stops a runner that never opens QMP", async () => {
    const ws = workspace("ffvm-runner-");
    const runner = writeScript(`${ws.dir}/runner`, "sleep 600 &\nwait");
    const paths = statePaths(ws.state);
    await ensureStateDirs(paths);

    const start = launchVm({ paths, site: makeSite("hang"), runner, imageId: "test", readyTimeoutMs: 2000, allowRoot: true });
    await expect(start).rejects.toThrow(/QEMU of hang did not open its QMP socket within 2000 ms, so ffvm stopped it/);
    expect(await waitFor(() => findSleeps(ws.dir).length === 0, 5000)).toBe(true);
    expect(passtProcesses(ws.state, "hang")).toEqual([]);
    expect(existsSync(ws.record("hang"))).toBe(false);
  });

  it("quits a guest that ignores the power button", async () => {
    const ws = workspace("ffvm-acpi-");
    // ffvm removes QEMU_KERNEL_PARAMS from the runner's environment, so the
    // wrapper sets it itself.
    const runner = writeScript(`${ws.dir}/runner`, `QEMU_KERNEL_PARAMS=ffvm.ignore_acpi exec ${runnerPath()} "$@"`);
    writeSites(ws.config, [{ name: "deaf", pinned: true }], runner);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("deaf"), /^ready$/, bootTimeoutMs);
    const pid = readRecord(ws, "deaf").pid;

    const started = Date.now();
    const stop = await ws.cli(["stop", "deaf", "--stop-timeout", "2"]);
    expect(stop.stderr).toContain("guest ignored the power button, sending QMP quit");
    expect(stop.stderr).toMatch(/stopped \(quit\)/);
    expect(stop.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    await waitForGuestLine(ws.serialLog("deaf"), /^powerdown-ignored$/, 1000);
    expect(readFileSync(ws.serialLog("deaf"), "utf8")).not.toMatch(/^ffvm-guest: powerdown\r?$/m);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(ws.record("deaf"))).toBe(false);
  });

  it("kills a QEMU that does not answer QMP", async () => {
    const ws = workspace("ffvm-hung-");
    writeSites(ws.config, [{ name: "hung", pinned: true }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("hung"), /^ready$/, bootTimeoutMs);
    const pid = readRecord(ws, "hung").pid;
    process.kill(pid, "SIGSTOP");

    const stop = await ws.cli(["stop", "hung", "--stop-timeout", "2"]);
    expect(stop.stderr).toMatch(/stopped \(SIGKILL\)/);
    expect(stop.exitCode).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(ws.record("hung"))).toBe(false);
  });

  it("rejects a disk used by a foreign QEMU", async () => {
    const ws = workspace("ffvm-foreign-");
    writeSites(ws.config, [{ name: "held" }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    const disk = ws.disk("held");
    // Paused (-S), so it burns no CPU, but it holds the disk open and locked.
    const foreign = execa("qemu-system-x86_64", ["-machine", "pc,accel=tcg", "-nodefaults", "-display", "none", "-S", "-drive", `file=${disk},if=virtio,format=qcow2`], {
      reject: false,
      stdin: "ignore",
    });
    const foreignPid = foreign.pid!;
    try {
      expect(await waitFor(() => fileUsers(disk).includes(foreignPid), 10_000)).toBe(true);
      const startTime = readStartTime(foreignPid);

      const open = await ws.cli(["open", "held"]);
      expect(open.exitCode).toBe(1);
      expect(open.stderr).toContain(`disk ${disk} is in use by another process: pid ${foreignPid} (qemu-system-x86_64)`);
      expect(fileUsers(disk)).toEqual([foreignPid]);
      expect(qemuProcesses(ws.state, "held")).toEqual([]);
      expect(passtProcesses(ws.state, "held")).toEqual([]);
      expect(existsSync(ws.record("held"))).toBe(false);

      writeSites(ws.config, []);
      const trash = await ws.cli(["reconcile", "--force"]);
      expect(trash.exitCode).toBe(1);
      expect(trash.stderr).toContain(`disk ${disk} is in use by another process: pid ${foreignPid}`);
      expect(existsSync(disk)).toBe(true);
      expect(readStartTime(foreignPid)).toBe(startTime);
    } finally {
      foreign.kill("SIGKILL");
      await foreign;
    }
  });

  it.skipIf(process.geteuid?.() !== 0)("names the lock of a QEMU it cannot see", async () => {
    // ffvm runs as nobody, which cannot read the descriptors of root's
    // foreign QEMU in /proc, so QEMU's own image lock is what stops the start.
    const nobody = 65534;
    const user = makeWorkspace("ffvm-unseen-", { uid: nobody });
    workspaces.push(user);
    chownSync(user.dir, nobody, nobody);
    writeSites(user.config, [{ name: "held" }]);
    expect((await user.cli(["reconcile"])).exitCode).toBe(0);
    const disk = user.disk("held");
    const foreign = execa("qemu-system-x86_64", ["-machine", "pc,accel=tcg", "-nodefaults", "-display", "none", "-S", "-drive", `file=${disk},if=virtio,format=qcow2`], {
      reject: false,
      stdin: "ignore",
    });
    const foreignPid = foreign.pid!;
    try {
      expect(await waitFor(() => fileUsers(disk).includes(foreignPid), 10_000)).toBe(true);
      const startTime = readStartTime(foreignPid);

      const open = await user.cli(["open", "held"]);
      expect(open.exitCode).toBe(1);
      expect(open.stderr).toContain(`QEMU of held exited during start-up, because disk ${disk} is in use by another process that ffvm cannot see`);
      expect(open.stderr).toContain('Failed to get "write" lock');
      expect(fileUsers(disk)).toEqual([foreignPid]);
      expect(passtProcesses(user.state, "held")).toEqual([]);
      expect(existsSync(user.record("held"))).toBe(false);
      expect(readStartTime(foreignPid)).toBe(startTime);
    } finally {
      foreign.kill("SIGKILL");
      await foreign;
    }
  });
});

describe("full state directory", () => {
  const ws = workspace("ffvm-full-");
  let mounted = false;

  afterAll(async () => {
    await killProcessesMentioning(ws.dir);
    if (mounted) await execa("umount", [ws.state]);
  });

  // Writes zeros into `file` until the file system is full.
  const fill = (file: string): void => {
    const chunk = Buffer.alloc(64 * 1024);
    const fd = openSync(file, "a");
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    } finally {
      closeSync(fd);
    }
  };

  // No temporary file, no half-made disk, no partial record or site archive.
  const expectClean = (): void => {
    expect(leftoverFiles(ws.state)).toEqual([]);
    for (const name of existsSync(`${ws.state}/vms`) ? readdirSync(`${ws.state}/vms`) : []) {
      expect(() => JSON.parse(readFileSync(`${ws.state}/vms/${name}`, "utf8")) as unknown).not.toThrow();
    }
    expect(walk(ws.state).filter((entry) => entry.endsWith("site.tar"))).toEqual([]);
    expect(qemuProcesses(ws.state, "tight")).toEqual([]);
    expect(passtProcesses(ws.state, "tight")).toEqual([]);
  };

  it("fails cleanly when no disk fits", async () => {
    mkdirSync(ws.state);
    await execa("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", ws.state]);
    mounted = true;
    writeSites(ws.config, [{ name: "tight", pinned: true }]);
    const filler = `${ws.state}/filler`;
    fill(filler);
    // 64 KiB free: room for the lock and records, not for a qcow2 disk.
    truncateSync(filler, statSync(filler).size - 64 * 1024);

    const result = await ws.cli(["reconcile"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/tight create-disk DiskMissing failed after [\d.]+ s: creating disk \S+\/disks\/tight\.qcow2 with qemu-img failed/);
    expect(result.stderr).toMatch(/No space left on device/);
    expect(existsSync(ws.disk("tight"))).toBe(false);
    expectClean();
    rmSync(filler);
  });

  it("fails cleanly when a record does not fit", async () => {
    writeSites(ws.config, [{ name: "tight" }]);
    expect((await ws.cli(["reconcile"])).exitCode).toBe(0);
    writeSites(ws.config, [{ name: "tight", pinned: true }]);
    const filler = `${ws.state}/filler`;
    fill(filler);
    const full = statSync(filler).size;

    // Free one page more each time, so that each write of a start fails in
    // turn: the lock, the site archive, the record.
    const failures: string[] = [];
    let freed = 0;
    for (; freed <= 16 * 4096; freed += 4096) {
      truncateSync(filler, full - freed);
      const result = await ws.cli(["reconcile"]);
      if (result.exitCode === 0) break;
      expect(result.stderr).toMatch(/(the file system is full \(ENOSPC\)|is nearly full \(\d+ KiB free\)).*; free space on it and run ffvm again/);
      failures.push(result.stderr);
      expectClean();
      expect(existsSync(ws.disk("tight"))).toBe(true);
    }
    expect(failures.some((stderr) => /writing \S+\/lock failed/.test(stderr))).toBe(true);
    expect(failures.some((stderr) => /writing \S+\/run\/tight\/site\.tar failed/.test(stderr))).toBe(true);
    expect(failures.some((stderr) => /writing \S+\/vms\/tight\.json failed/.test(stderr))).toBe(true);

    rmSync(filler);
    await killProcessesMentioning(ws.dir);
    const result = await ws.cli(["reconcile"]);
    expect(result.exitCode).toBe(0);
    await waitForGuestLine(ws.serialLog("tight"), /^ready$/, bootTimeoutMs);
    await expectOneVm(ws, "tight");
    expect((await ws.cli(["stop", "tight"])).exitCode).toBe(0);
  });
});

const makeSite = (name: string): Site => ({
  name,
  url: `https://${name}.example/`,
  memory: 256,
  cpus: 1,
  diskBytes: 64 * 1024 * 1024,
  disk: "64M",
  pinned: false,
  ephemeral: false,
  addons: [],
  audio: false,
  settingsHash: `hash-${name}`,
});

const findSleeps = (dir: string): number[] =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0] === "sleep" && isAlive(pid) && readFileSync(`/proc/${pid}/environ`, "utf8").includes(dir);
      } catch {
        return false;
      }
    });
