// ffvm completion bash|zsh|fish: print a completion script; ffvm sites
// --names: print the site names for it.

import { readDesiredState } from "../../config/index.js";
import { renderCompletion, shells, type CommandLineSpec, type Shell } from "../completion.js";
import { exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";

export const runCompletion = (args: readonly string[], spec: CommandLineSpec, output: Output): number => {
  const [shell, ...extra] = args;
  if (!shells.includes(shell as Shell) || extra.length > 0) {
    throw new UsageError(`ffvm completion takes one shell: ${shells.join(", ")}, for example: source <(ffvm completion bash)`);
  }
  output.out(renderCompletion(shell as Shell, spec).trimEnd());
  return exitCodes.ok;
};

/** Prints the names of the sites in sites.yaml, one per line; the completion scripts call it. */
export const runSites = async (configFile: string, output: Output): Promise<number> => {
  const { desired } = await readDesiredState(configFile);
  for (const site of desired.sites) output.out(site.name);
  return exitCodes.ok;
};
