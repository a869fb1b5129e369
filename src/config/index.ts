// Reads sites.yaml into the desired state: load, validate, resolve.

import { ConfigError, type ConfigProblem } from "./errors.js";
import { loadConfig } from "./load.js";
import { resolveConfig } from "./resolve.js";
import type { DesiredState } from "./types.js";
import { validateConfig } from "./validate.js";

export interface ReadConfigResult {
  desired: DesiredState;
  /** Problems that do not stop the plan, such as a WireGuard file other users can read. */
  warnings: ConfigProblem[];
}

/** Reads sites.yaml; throws ConfigError listing every problem when it is invalid. */
export const readDesiredState = async (file: string): Promise<ReadConfigResult> => {
  const config = await loadConfig(file);
  const schemaProblems = validateConfig(config);
  if (schemaProblems.length > 0) throw new ConfigError(schemaProblems);
  const { desired, problems } = resolveConfig(config);
  const errors = problems.filter((problem) => problem.severity === "error");
  if (desired === undefined || errors.length > 0) throw new ConfigError(problems);
  return { desired, warnings: problems };
};

export { ConfigError, formatProblem, type ConfigProblem } from "./errors.js";
export type { Addon, DesiredState, ImageSource, Site, Vpn } from "./types.js";
