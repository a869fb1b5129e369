// The ffvm executable that is running now, for files that start ffvm again
// later (a systemd unit, a .desktop file).

import { realpathSync } from "node:fs";

/** Returns the absolute path of the running ffvm script, with symbolic links resolved, so an entry keeps working when an npm bin link moves. */
export const ffvmExecutablePath = (): string => realpathSync(process.argv[1] ?? "ffvm");
