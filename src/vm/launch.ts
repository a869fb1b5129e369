// Starts one site's VM: the runner with ffvm's arguments after its own,
// detached, so the VM outlives ffvm.

import { chmod, mkdir, open, rename, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Site } from "../config/types.js";
import { buildSiteArchive } from "../bundle/site-archive.js";
import { describeProcess, findFileUsers, isSameProcess, readStartTime } from "../observe/processes.js";
import { findVmProcess, readPidFile } from "../observe/vms.js";
import { buildQemuArgs, runFilesIn, type RunFiles } from "../qemu/args.js";
import { createDisk } from "../qemu/img.js";
import { startPasst, stopPasst } from "../qemu/passt.js";
import { QmpClient } from "../qemu/qmp.js";
import { writeFileAtomic } from "../state/atomic.js";
import type { StatePaths } from "../state/paths.js";
import { recordFormatVersion, removeVmRecord, writeVmRecord, type VmRecord } from "../state/records.js";
import { faultPoint } from "../util/fault-point.js";
import { tailLog } from "../util/log-tail.js";
import { spawnPrivate } from "../util/spawn-private.js";

export interface LaunchOptions {
  paths: StatePaths;
  site: Site;
  runner: string;
  imageId: string;
  /** How long QEMU may take to open its QMP socket, in milliseconds. @default 30000 */
  readyTimeoutMs?: number;
  /** Allow starting QEMU as root; a guest escape would then own the host. @default false */
  allowRoot?: boolean;
  /** Page opened at start in place of site.url (`ffvm open URL`); the record keeps site.url. */
  startUrl?: string;
  onProgress?: (message: string) => void;
}

/**
 * Starts the VM and returns its record once QEMU replies on QMP and the record
 * contains its pid. A start that fails before that stops what it started, QEMU
 * included, and removes the record, the site archive and an ephemeral disk.
 * The logs stay for diagnosis.
 */
export const launchVm = async (options: LaunchOptions): Promise<VmRecord> => {
  const { paths, site } = options;
  if (process.geteuid?.() === 0 && options.allowRoot !== true) {
    throw new Error("refusing to run QEMU as root, because a guest escape would own the host; run ffvm as your own user, or set FFVM_ALLOW_ROOT=1 to accept the risk");
  }
  const files = runFilesIn(paths.runDir(site.name));
  const disk = site.ephemeral ? `${files.dir}/ephemeral.qcow2` : paths.disk(site.name);
  // Checked before the run directory is cleared, because a running VM's
  // sockets, pidfile and ephemeral disk live there.
  assertNotRunning(paths, site.name);
  assertDiskUnused(disk);
  await prepareRunDir(files);

  let runner: SpawnedRunner | undefined;
  try {
    if (site.ephemeral) await createDisk(disk, site.diskBytes);
    // Written through run/ itself, so that the search for files a killed
    // apply left reads one directory and not one per site.
    const temporary = join(paths.run, `.${site.name}.site.tar.${process.pid}.tmp`);
    await writeFileAtomic(files.archive, await buildSiteArchive(site, options.startUrl), 0o600, temporary);
    const args = buildQemuArgs(site, files);

    // The record exists before QEMU does, so a crash right after the spawn
    // leaves a record that observe completes from QEMU's pidfile.
    const record: VmRecord = {
      version: recordFormatVersion,
      site: site.name,
      pid: 0,
      startTime: 0,
      startedAt: new Date().toISOString(),
      imageId: options.imageId,
      settingsHash: site.settingsHash,
      settings: { url: site.url, memory: site.memory, cpus: site.cpus, audio: site.audio, vpn: site.vpn?.name ?? null },
      disk,
      ephemeral: site.ephemeral,
      ...(site.disposable === true ? { disposable: true } : {}),
    };
    await writeVmRecord(paths, record);
    faultPoint("vm-start-after-record");

    await startPasst(files);
    faultPoint("vm-start-after-passt");
    runner = await spawnRunner(options.runner, args, disk, files);
    faultPoint("vm-start-after-spawn");
    options.onProgress?.(`QEMU pid ${runner.pid} started, waiting for QMP`);
    await waitForQmp(site.name, disk, files, runner, options.readyTimeoutMs ?? 30_000);
    faultPoint("vm-start-after-qmp");
    // QEMU has an ephemeral or disposable VM's disk open now, so unlinking
    // it frees the space, and loses its contents, the moment QEMU exits,
    // however the VM ends: a crash or a kill leaves no disk behind.
    if (site.ephemeral || site.disposable === true) await rm(disk, { force: true });

    const qemuPid = readPidFile(files.pidFile) ?? runner.pid;
    const started: VmRecord = { ...record, pid: qemuPid, startTime: readStartTime(qemuPid) ?? 0 };
    await writeVmRecord(paths, started);
    return started;
  } catch (error) {
    if (runner !== undefined) await stopRunner(runner);
    await abandonStart(paths, site.name, files, site.ephemeral ? disk : undefined);
    throw error;
  }
};

// Stops the runner started by a failed start and, since it execs QEMU, QEMU:
// SIGTERM to its process group, then SIGKILL. The start time check keeps a
// reused pid from getting a signal.
const stopRunner = async (runner: SpawnedRunner): Promise<void> => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    if (!isSameProcess(runner.pid, runner.startTime)) return;
    try {
      process.kill(-runner.pid, signal);
    } catch {
      // The group is gone.
    }
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && isSameProcess(runner.pid, runner.startTime)) await sleep(50);
  }
};

// Removes what a failed start made, keeping the logs.
const abandonStart = async (paths: StatePaths, site: string, files: RunFiles, ephemeralDisk: string | undefined): Promise<void> => {
  await stopPasst(files);
  for (const file of [files.archive, files.qmpSocket, files.pidFile, files.passtSocket, files.passtPidFile, files.openSocket]) {
    await rm(file, { force: true });
  }
  await rm(files.tmp, { recursive: true, force: true });
  if (ephemeralDisk !== undefined) await rm(ephemeralDisk, { force: true });
  await removeVmRecord(paths, site);
};

const assertNotRunning = (paths: StatePaths, site: string): void => {
  const running = findVmProcess(paths, site);
  if (running !== undefined) {
    throw new Error(`the VM of ${site} already runs as ${describeProcess(running)}; stop it with ffvm stop ${site} before starting it again`);
  }
};

/** Rejects a disk that a process has open, such as a QEMU that ffvm did not start. That process gets no signal. */
export const assertDiskUnused = (disk: string): void => {
  const users = findFileUsers(disk);
  if (users.length > 0) {
    throw new Error(`disk ${disk} is in use by another process: ${users.map(describeProcess).join(", ")}; stop that process and run ffvm again, because two VMs writing one disk corrupt it`);
  }
};

// Clears what an earlier run of this VM left, keeping its last serial log.
const prepareRunDir = async (files: RunFiles): Promise<void> => {
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  // An ephemeral disk that a killed start left half-made goes here, not in removeLeftovers.
  const ephemeral = `${files.dir}/ephemeral.qcow2`;
  for (const file of [files.qmpSocket, files.pidFile, files.archive, files.openSocket, ephemeral, `${ephemeral}.creating`]) await rm(file, { force: true });
  await rm(files.tmp, { recursive: true, force: true });
  await mkdir(files.tmp, { mode: 0o700 });
  for (const log of [files.serialLog, files.qemuLog]) {
    await rename(log, `${log}.1`).catch(() => undefined);
    await chmod(`${log}.1`, 0o600).catch(() => undefined);
  }
};

interface SpawnedRunner {
  pid: number;
  startTime: number;
}

const spawnRunner = async (runner: string, args: string[], disk: string, files: RunFiles): Promise<SpawnedRunner> => {
  const log = await open(files.qemuLog, "a", 0o600);
  try {
    // QEMU creates its pidfile, its sockets and the serial log, which contains
    // what the guest prints, with the umask's mode.
    const child = spawnPrivate(runner, args, {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: { ...runnerEnvironment(process.env), NIX_DISK_IMAGE: disk, TMPDIR: files.tmp, USE_TMPDIR: "1" },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", (error) => reject(new Error(`runner ${runner} could not start: ${error.message}`)));
      child.once("spawn", () => resolve(child.pid ?? 0));
    });
    child.unref();
    return { pid, startTime: readStartTime(pid) ?? 0 };
  } finally {
    await log.close();
  }
};

// The NixOS runner reads these and splices them unquoted into QEMU's
// arguments or the kernel command line, so ffvm's own environment must not
// pass them on.
const runnerVariables = /^(QEMU_OPTS|QEMU_KERNEL_PARAMS|QEMU_NET_OPTS|NIXPKGS_QEMU_KERNEL_.*)$/;

export const runnerEnvironment = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !runnerVariables.test(name)));

// Waits until QMP responds. A QEMU that exits first fails the start with the
// last lines of its log.
const waitForQmp = async (site: string, disk: string, files: RunFiles, runner: SpawnedRunner, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(runner.pid, runner.startTime)) throw new Error(await describeEarlyExit(site, disk, files));
    try {
      const client = await QmpClient.connect(files.qmpSocket, 2000);
      const status = (await client.execute("query-status")) as { status?: string };
      client.close();
      if (status.status !== undefined) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`QEMU of ${site} did not open its QMP socket within ${timeoutMs} ms, so ffvm stopped it\n${tailLog(files.qemuLog)}`);
};

// QEMU locks its disk images and exits when another process holds the lock.
// On a full file system QEMU cannot write its pidfile or log, and exits
// without saying why.
const describeEarlyExit = async (site: string, disk: string, files: RunFiles): Promise<string> => {
  const tail = tailLog(files.qemuLog);
  if (tail.includes('Failed to get "write" lock')) {
    return `QEMU of ${site} exited during start-up, because disk ${disk} is in use by another process that ffvm cannot see; stop that process and run ffvm again\n${tail}`;
  }
  const freeBytes = await statfs(files.dir).then((stats) => stats.bavail * stats.bsize, () => undefined);
  if (freeBytes !== undefined && freeBytes < nearlyFullBytes) {
    return `QEMU of ${site} exited during start-up, and the file system of ${files.dir} is nearly full (${Math.floor(freeBytes / 1024)} KiB free), which QEMU needs for its pidfile, logs and disk; free space on it and run ffvm again\n${tail}`;
  }
  return `QEMU of ${site} exited during start-up\n${tail}`;
};

// NOTE: a guess at what QEMU needs to start; the disk then grows with use.
const nearlyFullBytes = 1024 * 1024;

