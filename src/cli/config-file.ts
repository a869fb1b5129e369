// The choice of the sites.yaml a command reads.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Returns --config, else ./sites.yaml if it exists, else $XDG_CONFIG_HOME/ffvm/sites.yaml. */
export const chooseConfigFile = (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (flag !== undefined) return resolve(flag);
  const local = resolve("sites.yaml");
  if (existsSync(local)) return local;
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(configHome, "ffvm", "sites.yaml");
};
