// Host-side facts for tests that break ffvm on purpose. It runs ffvm and
// reports the signal that killed it, lists the processes and open files of a
// state directory from /proc (independently of src/observe), and finds the
// files that an interrupted write may leave.

import { mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { ffvmBin } from "./cli.js";
import { runnerPath } from "./guest.js";

export interface RawResult {
  exitCode: number | undefined;
  /** Signal that ended ffvm, such as SIGKILL from a fault point. */
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export interface RunAs {
  /** Network namespace that ffvm and the VMs it starts run in. */
  netns?: string;
  /** User and group id that ffvm and the VMs it starts run as. */
  uid?: number;
}

/** Runs the built ffvm like runFfvm, and also returns the signal that ended it. */
export const runFfvmRaw = async (args: readonly string[], env: NodeJS.ProcessEnv = {}, runAs: RunAs = {}): Promise<RawResult> => {
  let command = ["node", ffvmBin, ...args];
  if (runAs.uid !== undefined) command = ["setpriv", `--reuid=${runAs.uid}`, `--regid=${runAs.uid}`, "--clear-groups", ...command];
  if (runAs.netns !== undefined) command = ["ip", "netns", "exec", runAs.netns, ...command];
  const result = await execa(command[0]!, command.slice(1), {
    env: { NO_COLOR: "1", FFVM_ALLOW_ROOT: "1", ...env },
    reject: false,
    timeout: 180_000,
    stdin: "ignore",
  });
  return { exitCode: result.exitCode, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
};

export interface Workspace {
  /** Temporary directory with sites.yaml, the state directory and helper files. */
  dir: string;
  config: string;
  state: string;
  /** Runs ffvm with --config and --state-dir of this workspace. */
  cli: (args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<RawResult>;
  runDir: (site: string) => string;
  disk: (site: string) => string;
  record: (site: string) => string;
  serialLog: (site: string) => string;
}

/** Makes a workspace in a new temporary directory; realpath, so /proc links compare equal. */
export const makeWorkspace = (prefix: string, runAs: RunAs = {}): Workspace => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const config = join(dir, "sites.yaml");
  const state = join(dir, "state");
  return {
    dir,
    config,
    state,
    cli: (args, env) => runFfvmRaw([...args, "--config", config, "--state-dir", state], env, runAs),
    runDir: (site) => join(state, "run", site),
    disk: (site) => join(state, "disks", `${site}.qcow2`),
    record: (site) => join(state, "vms", `${site}.json`),
    serialLog: (site) => join(state, "run", site, "serial.log"),
  };
};

export interface TestSite {
  name: string;
  pinned?: boolean;
  /** Extra YAML lines under the site, indented by four spaces. */
  lines?: string[];
}

/** Writes sites.yaml with small VMs of the test guest, or of `runner`. */
export const writeSites = (config: string, sites: readonly TestSite[], runner = runnerPath(), extra: string[] = []): void => {
  const lines = ["defaults:", "  memory: 256", "  cpus: 1", "  disk: 64M", sites.length === 0 ? "sites: {}" : "sites:"];
  for (const site of sites) {
    lines.push(`  ${site.name}:`, `    url: https://${site.name}.example/`, `    pinned: ${site.pinned === true}`);
    for (const line of site.lines ?? []) lines.push(`    ${line}`);
  }
  lines.push(...extra, "image:", `  runner: ${JSON.stringify(runner)}`);
  writeFileSync(config, `${lines.join("\n")}\n`);
};

/** Writes an executable shell script. */
export const writeScript = (file: string, body: string): string => {
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
};

export interface HostProcess {
  pid: number;
  argv: string[];
}

const listPids = (): number[] =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);

export const readArgv = (pid: number): string[] | undefined => {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw === "" ? undefined : raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
};

/** Returns the start time of a live process in clock ticks since boot; undefined for a gone or zombie process. */
export const readStartTime = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" || fields[0] === "X" ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
};

export const isAlive = (pid: number): boolean => readStartTime(pid) !== undefined;

/** Lists live processes whose arguments satisfy `test`. */
export const findHostProcesses = (test: (argv: string[]) => boolean): HostProcess[] => {
  const found: HostProcess[] = [];
  for (const pid of listPids()) {
    const argv = readArgv(pid);
    if (argv !== undefined && isAlive(pid) && test(argv)) found.push({ pid, argv });
  }
  return found;
};

const programName = (argv: readonly string[]): string => argv[0]?.split("/").at(-1) ?? "";

/** QEMU processes started for `site` with files in `state`. */
export const qemuProcesses = (state: string, site: string): HostProcess[] =>
  findHostProcesses(
    (argv) =>
      programName(argv).startsWith("qemu-system-") &&
      argv.some((arg, index) => arg === "-name" && argv[index + 1] === `ffvm-${site}`) &&
      argv.some((arg) => arg.includes(state)),
  );

/** passt processes serving the socket of `site` in `state`. */
export const passtProcesses = (state: string, site: string): HostProcess[] =>
  findHostProcesses((argv) => programName(argv).startsWith("passt") && argv.includes(join(state, "run", site, "passt.sock")));

/** Processes with `file` open. */
export const fileUsers = (file: string): number[] => {
  const users: number[] = [];
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const opened = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
    if (opened && isAlive(pid)) users.push(pid);
  }
  return users;
};

/** Kills with SIGKILL every process whose arguments mention `text`, such as a test's temporary directory. */
export const killProcessesMentioning = async (text: string): Promise<void> => {
  for (const found of findHostProcesses((argv) => argv.some((arg) => arg.includes(text)))) {
    try {
      process.kill(found.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && findHostProcesses((argv) => argv.some((arg) => arg.includes(text))).length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Lists every file and directory under `dir`, depth first, with paths relative to it. */
export const walk = (dir: string, prefix = ""): string[] => {
  const entries: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(dir, prefix)).sort();
  } catch {
    return entries;
  }
  for (const name of names) {
    const relative = prefix === "" ? name : `${prefix}/${name}`;
    entries.push(relative);
    if (statSync(join(dir, relative), { throwIfNoEntry: false })?.isDirectory() === true) entries.push(...walk(dir, relative));
  }
  return entries;
};

/** Files that an interrupted write may leave: temporary files, half-made disks and moved-aside locks. */
export const leftoverFiles = (state: string): string[] => walk(state).filter((entry) => /\.(tmp|creating|stale)$/.test(entry));

/** Polls `check` every 100 ms until it returns true; false after `timeoutMs`. */
export const waitFor = async (check: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
};
