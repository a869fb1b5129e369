// spawn() with umask 077, so that the files and sockets the child creates,
// such as QEMU's serial log, are readable and writable by the owner alone.

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/**
 * Spawns `command` with umask 077. The umask belongs to the whole process, but
 * spawn() forks before it returns and nothing else runs in between, so only
 * the child gets it.
 */
export const spawnPrivate = (command: string, args: readonly string[], options: SpawnOptions): ChildProcess => {
  const previous = process.umask(0o077);
  try {
    return spawn(command, args, options);
  } finally {
    process.umask(previous);
  }
};
