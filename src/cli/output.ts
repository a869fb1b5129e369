// The output streams of commands, passed in so that tests can capture them
// and colour follows the terminal.

import { fstatSync, writeSync } from "node:fs";

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether ANSI colour may be used on stdout: a terminal, and NO_COLOR unset. */
  color: boolean;
  /** The same for stderr; when unset, `color` is used. */
  errColor?: boolean;
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
 * Returns output to the process's stdout and stderr. Lines go out with
 * synchronous writes to the file descriptor, in the order they are written.
 * Node's stream objects are made only for a terminal, because making them
 * loads node's stream and network modules, about 9 ms of CPU here.
 */
export const processOutput = (): Output => {
  const stdout = new DescriptorWriter(1);
  const stderr = new DescriptorWriter(2);
  return {
    out: (text) => stdout.write(`${text}\n`),
    err: (text) => stderr.write(`${text}\n`),
    get color() {
      return stdout.isTerminal() && colorAllowed();
    },
    get errColor() {
      return stderr.isTerminal() && colorAllowed();
    },
    // NO_COLOR turns off colour only; moving the cursor is not colour.
    get live() {
      if (!stderr.isTerminal() || process.env.TERM === "dumb") return undefined;
      return { write: (text: string) => stderr.write(text), columns: () => process.stderr.columns ?? 80 };
    },
  };
};

const colorAllowed = (): boolean => (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb";

/** The output with colour as stderr allows it, for text written there. */
export const forStderr = (output: Output): Output => ({ ...output, color: output.errColor ?? output.color });

// How long to wait for a full pipe that its reader set to non-blocking mode,
// with Atomics.wait on a cell no other thread changes.
const fullPipeWaitMs = 5;
const waitCell = new Int32Array(new SharedArrayBuffer(4));

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
    if (this.isTerminal()) {
      this.#getStream().write(text);
      return;
    }
    let bytes = Buffer.from(text);
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(this.#fd, bytes));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") endAfterWriteError(this.#fd, error);
        // Waiting here, rather than handing the rest to a stream, keeps the
        // order of lines on stdout and stderr and keeps each line whole.
        Atomics.wait(waitCell, 0, 0, fullPipeWaitMs);
      }
    }
  }

  #getStream(): NodeJS.WriteStream {
    if (this.#stream === undefined) {
      this.#stream = this.#fd === 1 ? process.stdout : process.stderr;
      this.#stream.on("error", (error: NodeJS.ErrnoException) => endAfterWriteError(this.#fd, error));
    }
    return this.#stream;
  }
}

// A reader that goes away (`ffvm status | head -1`, quitting less) closes the
// pipe, and the output is no longer wanted. ffvm ends quietly, with the
// status of a process killed by SIGPIPE (128 + 13) as other Unix tools do, so
// a shell with pipefail does not take it for a success. Any other failed
// write (a full disk) ends it with one line on stderr.
const endAfterWriteError = (fd: 1 | 2, error: unknown): never => {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === "EPIPE") process.exit(141);
  if (fd === 1) {
    try {
      writeSync(2, `ffvm: cannot write to stdout: ${message}\n`);
    } catch {
      // stderr failed too; the exit status still reports the failure.
    }
  }
  process.exit(1);
};

const codes = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

export type Color = keyof typeof codes;

export const paint = (output: Output, color: Color, text: string): string =>
  output.color ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
