// Start-up cost of commands that should load almost nothing: ffvm --version
// and ffvm validate, against `node -e 0`.

import { fileURLToPath } from "node:url";
import { compareCommands, formatRatio } from "./measure.js";

const bin = fileURLToPath(new URL("../dist/bin/ffvm.cjs", import.meta.url));
const example = fileURLToPath(new URL("../sites.example.yaml", import.meta.url));
const node = process.execPath;
const baseline = { command: node, args: ["-e", "0"] };

export const benchStartup = ({ runs }) => {
  const version = compareCommands({ baseline, target: { command: node, args: [bin, "--version"] }, runs });
  const validate = compareCommands({ baseline, target: { command: node, args: [bin, "validate", "--config", example] }, runs });
  return [formatRatio("ffvm --version / node -e 0", version, 1.15), formatRatio("ffvm validate / node -e 0", validate, 1.3)];
};
