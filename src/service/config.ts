// Reads sites.yaml for `ffvm watch` and keeps the last valid version. An
// invalid or half-written file never becomes the desired state: its errors
// are logged once per distinct content, and the last valid version stays in
// effect until the file is valid again.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError, formatProblem, readDesiredState, type ReadConfigResult } from "../config/index.js";
import { loadConfig } from "../config/load.js";
import type { ServiceLog } from "./log.js";
import { targetsOfDesired, targetsOfRawConfig, type WatchTargets } from "./references.js";

export type ConfigRead =
  | { kind: "valid"; result: ReadConfigResult; targets: WatchTargets }
  /** targets is set when the file parses as YAML, so the files it names can be watched. */
  | { kind: "invalid"; targets?: WatchTargets };

export class ConfigTracker {
  readonly #file: string;
  readonly #log: ServiceLog;
  #lastGood: ReadConfigResult | undefined;
  #lastGoodAt: Date | undefined;
  #errorKey: string | undefined;
  #warnings = "";

  constructor(file: string, log: ServiceLog) {
    this.#file = file;
    this.#log = log;
  }

  /** The last valid desired state, if the file was ever valid. */
  get lastGood(): ReadConfigResult | undefined {
    return this.#lastGood;
  }

  /** Reads the file; logs its errors unless this content was already reported. */
  async read(): Promise<ConfigRead> {
    try {
      const result = await readDesiredState(this.#file);
      if (this.#errorKey !== undefined) this.#log.info(`${this.#file} is valid again; it is the desired state from now on`);
      this.#errorKey = undefined;
      this.#lastGood = result;
      this.#lastGoodAt = new Date();
      this.#logWarnings(result);
      return { kind: "valid", result, targets: targetsOfDesired(result.desired) };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      await this.#reportInvalid(error);
      return { kind: "invalid", targets: await this.#rawTargets() };
    }
  }

  async #reportInvalid(error: ConfigError): Promise<void> {
    const content = await readFile(this.#file).catch(() => undefined);
    const key = `${createHash("sha256")
      .update(content ?? "(missing)")
      .digest("hex")}\0${error.message}`;
    if (key === this.#errorKey) return;
    this.#errorKey = key;
    const errors = error.problems.filter((problem) => problem.severity === "error").length;
    const kept =
      this.#lastGood === undefined
        ? "no valid version was read yet, so ffvm watch changes nothing until the file is valid"
        : `the version read at ${this.#lastGoodAt?.toTimeString().slice(0, 8)} stays in effect, and no VM is stopped or disk trashed because of this file`;
    this.#log.error(`${error.message}\nffvm: ${errors} ${errors === 1 ? "error" : "errors"} in ${this.#file}; ${kept}. Fix the file and save it again.`);
  }

  #logWarnings(result: ReadConfigResult): void {
    const text = result.warnings.map(formatProblem).join("\n");
    if (text !== "" && text !== this.#warnings) this.#log.warn(text);
    this.#warnings = text;
  }

  async #rawTargets(): Promise<WatchTargets | undefined> {
    try {
      const config = await loadConfig(this.#file);
      return targetsOfRawConfig(this.#file, config.data);
    } catch {
      return undefined;
    }
  }
}
