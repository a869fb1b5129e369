// Guest networking through passt: a user-mode network that, with --no-map-gw,
// gives the guest no route to the host's loopback. QEMU's own user network
// (slirp) maps 10.0.2.2 to the host's 127.0.0.1, which would let a website in
// the VM reach every service listening on the host's loopback.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { isSameProcess, readStartTime } from "../observe/processes.js";
import { tailLog } from "../util/log-tail.js";
import type { RunFiles } from "./args.js";

/**
 * Starts passt for one VM in the foreground of a detached process, and waits
 * for its socket. --one-off makes passt exit when QEMU closes the connection,
 * so it never outlives its VM. (A pid file is not used: passt running as root
 * switches to nobody before writing it, and cannot write into the 0700 run
 * directory then.)
 */
export const startPasst = async (files: RunFiles): Promise<number> => {
  await rm(files.passtSocket, { force: true });
  const args = [
    "--foreground",
    "--one-off",
    "--no-map-gw",
    "--quiet",
    "--socket", files.passtSocket,
    // No port of the host is forwarded into the guest.
    "--tcp-ports", "none",
    "--udp-ports", "none",
    // As root, passt switches to nobody before binding its socket and then
    // fails to bind inside the 0700 run directory (while exiting with 0).
    ...(process.geteuid?.() === 0 ? ["--runas", "0"] : []),
  ];
  const log = await open(files.passtLog, "w", 0o600);
  let child: ChildProcess;
  try {
    child = spawn("passt", args, { detached: true, stdio: ["ignore", log.fd, log.fd] });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error: NodeJS.ErrnoException) =>
        reject(error.code === "ENOENT" ? new Error(passtMissing) : new Error(`passt could not start: ${error.message}`)),
      );
    });
  } finally {
    await log.close();
  }
  child.unref();
  const pid = child.pid ?? 0;
  const startTime = readStartTime(pid);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (existsSync(files.passtSocket)) {
      await writeFile(files.passtPidFile, `${pid}\n`, { mode: 0o600 });
      return pid;
    }
    if (startTime === undefined || !isSameProcess(pid, startTime)) break;
    await sleep(20);
  }
  stopPid(pid);
  throw new Error(`passt did not open its socket ${files.passtSocket}\n${tailLog(files.passtLog)}`);
};

const passtMissing = "passt not found; install it (Debian and Ubuntu: apt install passt, Nix: pkgs.passt), because ffvm gives VMs no network without it";

/** Stops a passt that QEMU never connected to, as after a failed start. */
export const stopPasst = (files: RunFiles): void => {
  let pid: number;
  try {
    pid = readPid(files.passtPidFile);
  } catch {
    return;
  }
  stopPid(pid);
};

const stopPid = (pid: number): void => {
  if (pid > 0 && readStartTime(pid) !== undefined && isPasst(pid)) process.kill(pid, "SIGTERM");
};

const isPasst = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("passt");
  } catch {
    return false;
  }
};

const readPid = (file: string): number => {
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${file} holds no pid`);
  return pid;
};
