// One applier at a time: an exclusive lock file in the state directory,
// recovered when the process that held it is gone.

import { linkSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isSameProcess, readStartTime } from "../observe/processes.js";
import { describeWriteError } from "./atomic.js";
import { removeFile } from "../util/remove-file.js";

export interface LockHolder {
  pid: number;
  startTime: number;
  command: string;
  since: string;
}

/** Raised when the lock is held and the caller asked not to wait. */
export class LockBusyError extends Error {
  readonly holder: LockHolder;

  constructor(file: string, holder: LockHolder) {
    super(`state directory is locked by pid ${holder.pid} (${holder.command}) since ${holder.since}; wait for it to finish, or run without --no-wait to wait (lock file ${file})`);
    this.name = "LockBusyError";
    this.holder = holder;
  }
}

export interface LockOptions {
  /** Wait for the holder to finish instead of failing at once. */
  wait: boolean;
  command: string;
  /** Called once when the lock is busy and the caller waits. */
  onWait?: (holder: LockHolder) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

export interface Lock {
  release: () => Promise<void>;
}

/** Takes the lock, recovering one left by a process that no longer exists. */
export const acquireLock = async (file: string, options: LockOptions): Promise<Lock> => {
  let reportedWait = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const lock = await tryCreate(file, options.command);
    if (lock !== undefined) return lock;

    const holder = await readHolder(file);
    if (holder === undefined || !isSameProcess(holder.pid, holder.startTime)) {
      // The holder died without releasing it (SIGKILL, power loss): take it over.
      await removeStale(file, holder);
      continue;
    }
    if (!options.wait) throw new LockBusyError(file, holder);
    if (!reportedWait) {
      options.onWait?.(holder);
      reportedWait = true;
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal });
  }
};

const tryCreate = async (file: string, command: string): Promise<Lock | undefined> => {
  const holder: LockHolder = {
    pid: process.pid,
    startTime: readStartTime(process.pid) ?? 0,
    command,
    since: new Date().toISOString(),
  };
  // The lock appears complete or not at all: written aside, then linked into
  // place, which fails with EEXIST when another process holds it.
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    // Inside the try, so a write that fails half-way (a full disk) leaves no temporary file.
    writeFileSync(temporary, JSON.stringify(holder), { mode: 0o600 });
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw describeWriteError(file, error);
  } finally {
    removeFile(temporary);
  }
  return {
    release: async () => {
      const current = await readHolder(file);
      if (current?.pid === process.pid) removeFile(file);
    },
  };
};

// Moves the stale lock aside before deleting it, so that two processes
// recovering at once cannot delete a lock the other has just taken.
const removeStale = async (file: string, stale: LockHolder | undefined): Promise<void> => {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = await readHolder(aside);
  const isStale = moved === undefined ? stale === undefined : moved.pid === stale?.pid && moved.startTime === stale.startTime;
  if (!isStale) {
    // Another process took the lock between our read and the rename: put it back.
    try {
      linkSync(aside, file);
    } catch {
      // Another process has taken the lock again, and keeps it.
    }
  }
  removeFile(aside);
};

const readHolder = async (file: string): Promise<LockHolder | undefined> => {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || typeof parsed.startTime !== "number") return undefined;
    return parsed as LockHolder;
  } catch {
    return undefined;
  }
};
