// Starts one site's VM: the runner with ffvm's arguments after its own,
// detached, so the VM outlives ffvm.

import { spawn } from "node:child_process";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import type { Site } from "../config/types.js";
import { buildSiteArchive } from "../bundle/site-archive.js";
import { readStartTime, isSameProcess } from "../observe/processes.js";
import { buildQemuArgs, runFilesIn, type RunFiles } from "../qemu/args.js";
import { createDisk } from "../qemu/img.js";
import { startPasst, stopPasst } from "../qemu/passt.js";
import { QmpClient } from "../qemu/qmp.js";
import type { StatePaths } from "../state/paths.js";
import { recordFormatVersion, writeVmRecord, type VmRecord } from "../state/records.js";
import { tailLog } from "../util/log-tail.js";

export interface LaunchOptions {
  paths: StatePaths;
  site: Site;
  runner: string;
  imageId: string;
  /** How long QEMU may take to open its QMP socket, in milliseconds. @default 30000 */
  readyTimeoutMs?: number;
  /** Allow starting QEMU as root; a guest escape would then own the host. @default false */
  allowRoot?: boolean;
  onProgress?: (message: string) => void;
}

/** Starts the VM and returns its record once QEMU answers on QMP. */
export const launchVm = async (options: LaunchOptions): Promise<VmRecord> => {
  const { paths, site } = options;
  if (process.geteuid?.() === 0 && options.allowRoot !== true) {
    throw new Error("refusing to run QEMU as root, because a guest escape would own the host; run ffvm as your own user, or set FFVM_ALLOW_ROOT=1 to accept the risk");
  }
  const files = runFilesIn(paths.runDir(site.name));
  await prepareRunDir(files);
  const disk = site.ephemeral ? `${files.dir}/ephemeral.qcow2` : paths.disk(site.name);
  if (site.ephemeral) await createDisk(disk, site.diskBytes);

  await writeFile(files.archive, await buildSiteArchive(site), { mode: 0o600 });
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
  };
  await writeVmRecord(paths, record);

  await startPasst(files);
  let pid: number;
  try {
    pid = await spawnRunner(options.runner, args, disk, files);
    options.onProgress?.(`QEMU pid ${pid} started, waiting for QMP`);
    await waitForQmp(files, pid, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    stopPasst(files);
    throw error;
  }

  const qemuPid = readPidFile(files.pidFile) ?? pid;
  const started: VmRecord = { ...record, pid: qemuPid, startTime: readStartTime(qemuPid) ?? 0 };
  await writeVmRecord(paths, started);
  return started;
};

// Clears what an earlier run of this VM left, keeping its last serial log.
const prepareRunDir = async (files: RunFiles): Promise<void> => {
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  for (const file of [files.qmpSocket, files.pidFile, files.archive, files.openSocket, `${files.dir}/ephemeral.qcow2`]) await rm(file, { force: true });
  await rm(files.tmp, { recursive: true, force: true });
  await mkdir(files.tmp, { mode: 0o700 });
  await rename(files.serialLog, `${files.serialLog}.1`).catch(() => undefined);
  await rename(files.qemuLog, `${files.qemuLog}.1`).catch(() => undefined);
};

const spawnRunner = async (runner: string, args: string[], disk: string, files: RunFiles): Promise<number> => {
  const log = await open(files.qemuLog, "a", 0o600);
  try {
    const child = spawn(runner, args, {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: { ...runnerEnvironment(process.env), NIX_DISK_IMAGE: disk, TMPDIR: files.tmp, USE_TMPDIR: "1" },
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", (error) => reject(new Error(`runner ${runner} could not start: ${error.message}`)));
      child.once("spawn", () => resolve(child.pid ?? 0));
    });
    child.unref();
    return pid;
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

// Waits until QMP answers. A QEMU that exits first fails the start with the
// last lines of its log.
const waitForQmp = async (files: RunFiles, pid: number, timeoutMs: number): Promise<void> => {
  const startTime = readStartTime(pid);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (startTime === undefined || !isSameProcess(pid, startTime)) {
      throw new Error(`QEMU exited during start-up\n${tailLog(files.qemuLog)}`);
    }
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
  throw new Error(`QEMU did not open its QMP socket within ${timeoutMs} ms\n${tailLog(files.qemuLog)}`);
};

const readPidFile = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};
