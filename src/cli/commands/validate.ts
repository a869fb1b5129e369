// ffvm validate: check sites.yaml without touching anything.

import { formatProblem, readDesiredState } from "../../config/index.js";
import { exitCodes } from "../exit.js";
import type { Output } from "../output.js";

export const runValidate = async (configFile: string, output: Output): Promise<number> => {
  const { desired, warnings } = await readDesiredState(configFile);
  for (const warning of warnings) output.err(formatProblem(warning));
  output.out(`${configFile}: valid, ${desired.sites.length} site${desired.sites.length === 1 ? "" : "s"}`);
  return exitCodes.ok;
};
