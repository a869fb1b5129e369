// The output streams of commands, passed in so that tests can capture them
// and colour follows the terminal.

import { fstatSync, writeSync } from "node:fs";

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

/**
 * Output to the process's stdout and stderr. Lines go out with synchronous
 * writes to the file descriptor. Node's stream objects are made only for a
 * terminal or a full pipe, because making them loads node's stream and
 * network modules, a tenth of the time of a command that prints one line.
 */
export const processOutput = (): Output => {
  const stdout = new DescriptorWriter(1);
  const stderr = new DescriptorWriter(2);
  return {
    out: (text) => stdout.write(`${text}\n`),
    err: (text) => stderr.write(`${text}\n`),
    get color() {
      return stdout.isTerminal() && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb";
    },
    // NO_COLOR turns off colour only; moving the cursor is not colour.
    get live() {
      if (!stderr.isTerminal() || process.env.TERM === "dumb") return undefined;
      return { write: (text: string) => stderr.write(text), columns: () => process.stderr.columns ?? 80 };
    },
  };
};

class DescriptorWriter {
  readonly #fd: 1 | 2;
  #terminal: boolean | undefined;
  #stream: NodeJS.WriteStream | undefined;

  constructor(fd: 1 | 2) {
    this.#fd = fd;
  }

  isTerminal(): boolean {
    if (this.#terminal === undefined) {
      let characterDevice = false;
      try {
        characterDevice = fstatSync(this.#fd).isCharacterDevice();
      } catch {
        // A closed descriptor is no terminal.
      }
      this.#terminal = characterDevice && this.#getStream().isTTY === true;
    }
    return this.#terminal;
  }

  write(text: string): void {
    if (this.#stream !== undefined || this.isTerminal()) {
      this.#getStream().write(text);
      return;
    }
    let bytes = Buffer.from(text);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(this.#fd, bytes));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EPIPE") endQuietly();
      // A pipe set to non-blocking mode by the reader is full: the stream waits for it.
      if (code !== "EAGAIN") throw error;
      this.#getStream().write(bytes);
    }
  }

  #getStream(): NodeJS.WriteStream {
    if (this.#stream === undefined) {
      this.#stream = this.#fd === 1 ? process.stdout : process.stderr;
      this.#stream.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE") throw error;
        endQuietly();
      });
    }
    return this.#stream;
  }
}

// A reader that goes away (`ffvm status | head -1`, quitting less) closes the
// pipe; the output is no longer wanted, so ffvm ends quietly.
const endQuietly = (): never => process.exit(0);

const codes = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

export type Color = keyof typeof codes;

export const paint = (output: Output, color: Color, text: string): string =>
  output.color ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
