// Guest networking through passt: a user-mode network that, with --no-map-gw,
// gives the guest no route to the host's loopback. QEMU's own user network
// (slirp) maps 10.0.2.2 to the host's 127.0.0.1, which would let a website in
// the VM reach every service listening on the host's loopback.

import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { findProcesses, isSameProcess, readStartTime, type ProcessInfo } from "../observe/processes.js";
import { writeFileAtomic } from "../state/atomic.js";
import { tailLog } from "../util/log-tail.js";
import { spawnPrivate } from "../util/spawn-private.js";
import type { RunFiles } from "./args.js";

/**
 * Starts passt for one VM in the foreground of a detached process, and waits
 * for its socket. A passt left on the same socket by an earlier start that
 * ffvm was killed in is stopped first, so the caller must know that the VM
 * does not run. --one-off makes passt exit when QEMU closes the connection,
 * so it never outlives its VM. (A pid file is not used: passt running as root
 * switches to the `nobody` user before writing it, and cannot write into the 0700 run
 * directory then.)
 */
export const startPasst = async (files: RunFiles): Promise<number> => {
  await stopPasst(files);
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
    // As root, passt switches to the `nobody` user before binding its socket and then
    // fails to bind inside the 0700 run directory (while exiting with 0).
    ...(process.geteuid?.() === 0 ? ["--runas", "0"] : []),
  ];
  const log = await open(files.passtLog, "w", 0o600);
  let child: ChildProcess;
  try {
    child = spawnPrivate("passt", args, { detached: true, stdio: ["ignore", log.fd, log.fd] });
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
      await writeFileAtomic(files.passtPidFile, `${pid}\n`);
      return pid;
    }
    if (startTime === undefined || !isSameProcess(pid, startTime)) break;
    await sleep(20);
  }
  await stopPasst(files);
  throw new Error(`passt did not open its socket ${files.passtSocket}\n${tailLog(files.passtLog)}`);
};

const passtMissing = "passt not found; install it (Debian and Ubuntu: apt install passt, Nix: pkgs.passt), because ffvm gives VMs no network without it";

/**
 * Stops every passt that serves this VM's socket, found by its arguments, as
 * after a failed start: SIGTERM, then SIGKILL after 2 s. passt exits by itself
 * once QEMU has connected and disconnected, so only one that QEMU never
 * connected to needs this.
 */
export const stopPasst = async (files: RunFiles): Promise<void> => {
  const running = (): ProcessInfo[] =>
    findProcesses((argv) => isPasstFor(argv, files)).filter((passt) => isSameProcess(passt.pid, passt.startTime));
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const found = running();
    if (found.length === 0) return;
    for (const passt of found) process.kill(passt.pid, signal);
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && running().length > 0) await sleep(20);
  }
};

// On x86-64, passt may re-exec itself as passt.avx2.
const isPasstFor = (argv: readonly string[], files: RunFiles): boolean =>
  (argv[0]?.split("/").at(-1) ?? "").startsWith("passt") && argv.some((arg, index) => arg === "--socket" && argv[index + 1] === files.passtSocket);
