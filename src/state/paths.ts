// Layout of the state directory.

import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface StatePaths {
  root: string;
  disks: string;
  run: string;
  vms: string;
  trash: string;
  /** Fingerprint and out path of the last successful image build. */
  imageRecord: string;
  /** nix out-link of the image; a GC root, so the image survives garbage collection. */
  imageLink: string;
  lock: string;
  disk: (site: string) => string;
  runDir: (site: string) => string;
  record: (site: string) => string;
}

/** Returns the paths of a state directory rooted at `root`. */
export const statePaths = (root: string): StatePaths => ({
  root,
  disks: join(root, "disks"),
  run: join(root, "run"),
  vms: join(root, "vms"),
  trash: join(root, "trash"),
  imageRecord: join(root, "image.json"),
  imageLink: join(root, "image-result"),
  lock: join(root, "lock"),
  disk: (site) => join(root, "disks", `${site}.qcow2`),
  runDir: (site) => join(root, "run", site),
  record: (site) => join(root, "vms", `${site}.json`),
});

/** Returns $XDG_STATE_HOME/ffvm, or ~/.local/state/ffvm when XDG_STATE_HOME is unset. */
export const defaultStateDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const base = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== "" ? env.XDG_STATE_HOME : join(homedir(), ".local", "state");
  return join(base, "ffvm");
};

/** Creates the state directory and its folders, all mode 0700 because they hold site data. */
export const ensureStateDirs = async (paths: StatePaths): Promise<void> => {
  for (const dir of [paths.root, paths.disks, paths.run, paths.vms, paths.trash]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
};
