// Runs the built `ffvm watch` as a child process and reads its log lines.

import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { ffvmBin } from "../helpers/cli.js";

export class WatchProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #hasExited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    let partial = "";
    const onData = (chunk: Buffer): void => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.#hasExited = true;
        resolve(code ?? (signal === null ? null : 128));
      }),
    );
  }

  /** Starts `ffvm watch` with `args`; FFVM_ALLOW_ROOT lets the tests boot VMs as root in CI containers. */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): WatchProcess {
    const child = spawn(process.execPath, [ffvmBin, "watch", ...args], {
      env: { ...process.env, NO_COLOR: "1", FFVM_ALLOW_ROOT: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new WatchProcess(child);
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Returns the number of lines so far, to count or wait from there. */
  mark(): number {
    return this.lines.length;
  }

  /** Counts lines matching `pattern` from line `from` on. */
  count(pattern: RegExp, from = 0): number {
    return this.lines.slice(from).filter((line) => pattern.test(line)).length;
  }

  /** Waits for a line matching `pattern` from line `from` on; fails with the log after `timeoutMs`. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.slice(from).find((entry) => pattern.test(entry));
      if (line !== undefined) return line;
      if (this.#hasExited) throw new Error(`ffvm watch exited before a line matching ${pattern}; log:\n${this.lines.join("\n")}`);
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; log:\n${this.lines.join("\n")}`);
      await sleep(50);
    }
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    this.#child.kill(signal);
    return this.exited;
  }

  /** Returns the whole log, for assertion messages. */
  log(): string {
    return this.lines.join("\n");
  }
}

/** Waits until `check` returns true; fails with `describe()` after `timeoutMs`. */
export const waitUntil = async (check: () => boolean, describe: () => string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(50);
  }
};
