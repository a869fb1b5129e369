// ffvm logs SITE [--follow] [--lines N]: the QEMU log and the serial console
// log of a site's VM, escaped for the terminal.

import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { readDesiredState } from "../../config/index.js";
import { runFilesIn } from "../../qemu/args.js";
import { chooseStateDir } from "../../reconcile.js";
import { statePaths } from "../../state/paths.js";
import { escapeLogLine, followFiles, readLastLines, type FollowEvent } from "../../vm/logs.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";

export interface LogsCommandOptions {
  configFile: string;
  stateDir?: string;
  site: string;
  follow: boolean;
  /** Lines from the end of each log printed first. */
  lines: number;
  /** Ends --follow; the command line aborts it on SIGINT. */
  signal?: AbortSignal;
}

export const defaultLogLines = 50;

export const maxLogLines = 100_000;

/** Parses --lines: a whole number from 0 to maxLogLines. */
export const parseLines = (text: string | undefined): number => {
  if (text === undefined) return defaultLogLines;
  const lines = Number(text);
  if (!/^\d+$/.test(text) || lines > maxLogLines) throw new UsageError(`--lines must be a whole number from 0 to ${maxLogLines}, got ${JSON.stringify(text)}; for example --lines 200`);
  return lines;
};

export const runLogs = async (options: LogsCommandOptions, output: Output): Promise<number> => {
  // The name becomes a path, so it must have the form of a site name and nothing else.
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(options.site)) {
    throw new UsageError(`${JSON.stringify(options.site)} is not a site name; site names are lower-case letters, digits and dashes, such as bank`);
  }
  // --state-dir alone finds the logs, so a broken sites.yaml does not hide them.
  const stateDir = options.stateDir ?? chooseStateDir(undefined, (await readDesiredState(options.configFile)).desired);
  const files = runFilesIn(statePaths(stateDir).runDir(options.site));
  const logs = [files.qemuLog, files.serialLog];

  let lastFile: string | undefined;
  const print = (event: FollowEvent): void => {
    if (event.kind === "notice") {
      output.err(`ffvm: ${event.file} ${event.message}`);
      lastFile = undefined;
      return;
    }
    if (event.file !== lastFile) {
      output.out(`${lastFile === undefined ? "" : "\n"}==> ${event.file} <==`);
      lastFile = event.file;
    }
    for (const line of event.lines) output.out(escapeLogLine(line));
  };

  if (!options.follow) {
    if (!logs.some((file) => existsSync(file))) {
      output.err(`ffvm: no logs of ${options.site} in ${files.dir}; its VM has not run on this machine, or it was disposable and has stopped`);
      return exitCodes.error;
    }
    for (const file of logs) await printTail(file, options.lines, print);
    return exitCodes.ok;
  }

  if (!logs.some((file) => existsSync(file))) output.err(`ffvm: no logs of ${options.site} in ${files.dir} yet; waiting for its VM to start`);
  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await followFiles(logs, { initialLines: options.lines, signal: controller.signal, onEvent: print });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return exitCodes.ok;
};

const printTail = async (file: string, count: number, print: (event: FollowEvent) => void): Promise<void> => {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    print({ kind: "lines", file, lines: await readLastLines(handle, size, count) });
  } finally {
    await handle.close();
  }
};
