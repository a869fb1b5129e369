// Runs the built ffvm executable as a person would.

import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const ffvmBin = fileURLToPath(new URL("../../dist/bin/ffvm.cjs", import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const runFfvm = async (args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> => {
  const result = await execa("node", [ffvmBin, ...args], {
    cwd: options.cwd,
    // Tests run as root on CI machines, so they accept QEMU as root.
    env: { NO_COLOR: "1", FFVM_ALLOW_ROOT: "1", ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 180_000,
    stdin: "ignore",
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
};
