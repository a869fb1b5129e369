// Error messages for failed child processes: the cause first, then the
// command, then the lines of output that look like errors.

import type { Result } from "execa";

const maxOutputLines = 20;

/** Builds an Error for a failed command; its message starts with what went wrong. */
export const describeCommandFailure = (what: string, result: Pick<Result, "exitCode" | "signal" | "stderr" | "stdout" | "timedOut" | "originalMessage">): Error => {
  const cause = describeExit(result);
  const output = pickErrorLines(String(result.stderr ?? "") || String(result.stdout ?? ""));
  const lines = [`${what} ${cause}`];
  if (output.length > 0) lines.push(...output.map((line) => `  ${line}`));
  else if (result.originalMessage) lines.push(`  ${result.originalMessage}`);
  return new Error(lines.join("\n"));
};

const describeExit = (result: Pick<Result, "exitCode" | "signal" | "timedOut">): string => {
  if (result.timedOut) return "timed out";
  if (result.signal !== undefined) return `was killed by ${result.signal}`;
  if (result.exitCode === undefined) return "could not start";
  if (result.exitCode === 127) return "failed with exit code 127 (command not found)";
  if (result.exitCode > 128) return `failed with exit code ${result.exitCode} (killed by signal ${result.exitCode - 128})`;
  return `failed with exit code ${result.exitCode}`;
};

// Keeps at most 20 lines, preferring those that look like errors, so a long
// build log still shows its cause.
export const pickErrorLines = (output: string): string[] => {
  const lines = output.split("\n").map(escapeControl).filter((line) => line.trim() !== "");
  if (lines.length <= maxOutputLines) return lines;
  const errorLike = lines.filter((line) => /error|fail|cannot|denied|not found|invalid/i.test(line));
  if (errorLike.length > 0) return errorLike.slice(-maxOutputLines);
  return lines.slice(-maxOutputLines);
};

/** Escapes control characters so output cannot move the cursor or forge log lines. */
export const escapeControl = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
