// Problems found in sites.yaml, each with its place in the file.

export interface ConfigProblem {
  file: string;
  /** 1-based line; 0 when the problem concerns the whole file. */
  line: number;
  /** 1-based column; 0 when the problem concerns the whole file. */
  col: number;
  /** Dotted path of the key, such as `sites.bank.memory`, or "" for the top level. */
  key: string;
  message: string;
  /** What to write instead, when there is a clear answer. */
  fix?: string;
  /** A warning does not stop the plan; an error does. */
  severity: "error" | "warning";
}

/** Raised when sites.yaml cannot become a desired state; lists every error at once. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

// Formats a problem as `file:line:col: key: message (fix)`, the shape compilers
// use, so editors and terminals can jump to it.
export const formatProblem = (problem: ConfigProblem): string => {
  const place = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  const key = problem.key === "" ? "" : `${problem.key}: `;
  const level = problem.severity === "warning" ? "warning: " : "";
  const fix = problem.fix === undefined ? "" : `; ${problem.fix}`;
  return `${place}: ${level}${key}${problem.message}${fix}`;
};

// Shows a value from the file in a message: strings quoted and escaped, long ones cut.
export const showValue = (value: unknown): string => {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};
