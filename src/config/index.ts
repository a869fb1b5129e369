// Reads sites.yaml into the desired state: load, validate, resolve.

import { ConfigError, sortProblems, type ConfigProblem } from "./errors.js";
import { checkImagePresent } from "./image-check.js";
import { loadConfig } from "./load.js";
import { checkReferences, loadCronValidator, resolveConfig } from "./resolve.js";
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
  const schemaProblems = await validateConfig(config);
  if (usesReset(config.data)) await loadCronValidator();
  if (config.problems.length > 0 || schemaProblems.length > 0) {
    throw new ConfigError(combineProblems([config.problems, schemaProblems, checkReferences(config)]));
  }
  const { desired, problems } = resolveConfig(config);
  const sorted = sortProblems([...problems, ...checkImagePresent(config)]);
  if (desired === undefined || sorted.some((problem) => problem.severity === "error")) throw new ConfigError(sorted);
  return { desired, warnings: sorted };
};

// Merges the problems of the loading, schema and reference checks, in that
// order, and sorts them by place. A later check's problem is dropped when an
// earlier check already reported the same key on the same line: a URL with a
// tab in it is reported once, not also as a URL the schema rejects.
const combineProblems = (stages: ConfigProblem[][]): ConfigProblem[] => {
  const reported = new Set<string>();
  const kept: ConfigProblem[] = [];
  for (const stage of stages) {
    const fresh = stage.filter((problem) => problem.key === "" || !reported.has(`${problem.key}\u0000${problem.line}`));
    for (const problem of fresh) reported.add(`${problem.key}\u0000${problem.line}`);
    kept.push(...fresh);
  }
  return sortProblems(kept);
};

export { ConfigError, formatProblem, type ConfigProblem } from "./errors.js";
export type { Addon, DesiredState, ImageSource, Site, Vpn } from "./types.js";

// Tells whether defaults: or a site sets reset:, the one key checked with node-cron.
const usesReset = (data: unknown): boolean => {
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const root = record(data);
  if (record(root?.defaults)?.reset !== undefined) return true;
  return Object.values(record(root?.sites) ?? {}).some((site) => record(site)?.reset !== undefined);
};
