// The last lines of a log file, for error messages.

import { readFileSync } from "node:fs";
import { escapeControl } from "./command-error.js";

/** Returns the last lines of a log, escaped and indented, for error messages. */
export const tailLog = (file: string, lines = 20): string => {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return `  (no log at ${file})`;
  }
  const tail = text.split("\n").filter((line) => line.trim() !== "").slice(-lines);
  if (tail.length === 0) return `  (${file} is empty)`;
  return [`  last lines of ${file}:`, ...tail.map((line) => `    ${escapeControl(line)}`)].join("\n");
};
