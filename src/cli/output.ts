// The output streams of commands, passed in so that tests can capture them
// and colour follows the terminal.

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether ANSI colour may be used on stdout: a terminal, and NO_COLOR unset. */
  color: boolean;
  /** Set when stderr is a terminal that understands cursor movement, so progress may be redrawn there in place. */
  live?: LiveTerminal;
}

/** Raw access to a terminal on stderr. */
export interface LiveTerminal {
  /** Writes text as it is, without a newline. */
  write: (text: string) => void;
  /** Width of the terminal in columns. */
  columns: () => number;
}

export const processOutput = (): Output => ({
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  color: process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb",
  // NO_COLOR turns off colour only; moving the cursor is not colour.
  live:
    process.stderr.isTTY === true && process.env.TERM !== "dumb"
      ? { write: (text) => process.stderr.write(text), columns: () => process.stderr.columns ?? 80 }
      : undefined,
});

const codes = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

export type Color = keyof typeof codes;

export const paint = (output: Output, color: Color, text: string): string =>
  output.color ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
