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

/** Maximum number of problems a ConfigError message lists; the rest are counted in one last line. */
export const maxListedProblems = 100;

/** Raised when sites.yaml cannot become a desired state; lists every error at once. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Throws a ConfigError of one problem. */
export const throwProblem = (problem: ConfigProblem): never => {
  throw new ConfigError([problem]);
};

// Lists the problems one per line. A file with thousands of errors is almost
// always the wrong file, so the list stops after maxListedProblems lines.
const formatProblems = (problems: ConfigProblem[]): string => {
  const lines = problems.slice(0, maxListedProblems).map(formatProblem);
  const unlisted = problems.length - lines.length;
  if (unlisted > 0) {
    const file = problems[0]?.file ?? "sites.yaml";
    lines.push(`${file}: ${unlisted} more problems not listed; fix the ones above first, or check that this is the right file`);
  }
  return lines.join("\n");
};

// Formats a problem as `file:line:col: key: message; fix`, the shape compilers
// use, so editors and terminals can jump to it.
export const formatProblem = (problem: ConfigProblem): string => {
  const place = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  const key = problem.key === "" ? "" : `${problem.key}: `;
  const level = problem.severity === "warning" ? "warning: " : "";
  const fix = problem.fix === undefined ? "" : `; ${problem.fix}`;
  return `${place}: ${level}${key}${problem.message}${fix}`;
};

/**
 * Joins a key path with dots, as in `sites.bank.memory`. A segment that is
 * empty or contains characters other than letters, digits, `_` and `-` is
 * quoted, so `sites."a.b"` differs from `sites.a.b`.
 */
export const formatKeyPath = (path: readonly (string | number)[]): string =>
  path.map((segment) => (/^[A-Za-z0-9_-]+$/.test(String(segment)) ? String(segment) : JSON.stringify(String(segment)))).join(".");

// Shows a value from the file in a message: strings quoted and escaped, long
// ones cut, and the YAML spelling of infinite and NaN numbers, which JSON lacks.
export const showValue = (value: unknown): string => {
  let text: string;
  if (typeof value === "number" && Number.isNaN(value)) text = ".nan";
  else if (value === Infinity) text = ".inf";
  else if (value === -Infinity) text = "-.inf";
  else if (value === undefined) text = "nothing";
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Orders problems by place: whole-file problems first, then by line and column. */
export const sortProblems = (problems: ConfigProblem[]): ConfigProblem[] =>
  [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
