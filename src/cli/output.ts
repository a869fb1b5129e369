// Where commands write, so tests can capture it and colour follows the terminal.

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether ANSI colour may be used on stdout: a terminal, and NO_COLOR unset. */
  color: boolean;
}

export const processOutput = (): Output => ({
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  color: process.stdout.isTTY === true && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb",
});

const codes = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

export type Color = keyof typeof codes;

export const paint = (output: Output, color: Color, text: string): string =>
  output.color ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
