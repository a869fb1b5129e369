// Exit codes and the one error type the command line turns into an exit status.

export const exitCodes = {
  ok: 0,
  error: 1,
  /** With --detailed-exitcode: the plan contains changes, as terraform plan does. */
  changes: 2,
  usage: 64,
} as const;

/** Thrown by commands after they have printed what went wrong. */
export class ExitError extends Error {
  readonly exitCode: number;

  constructor(exitCode: number, message = "") {
    super(message);
    this.name = "ExitError";
    this.exitCode = exitCode;
  }
}

/** Thrown for a command line that cannot be parsed; main prints it with the usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
