// Parses the command line and dispatches to one command; the one place that
// turns errors into exit codes.

import { parseArgs } from "node:util";
import type { ConfigError } from "../config/errors.js";
import { chooseConfigFile } from "./config-file.js";
import { ExitError, exitCodes, UsageError } from "./exit.js";
import { helpTexts, version } from "./help.js";
import type { Output } from "./output.js";

export const optionSpec = {
  config: { type: "string" },
  "state-dir": { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  force: { type: "boolean" },
  "detailed-exitcode": { type: "boolean" },
  "no-wait": { type: "boolean" },
  "no-restart": { type: "boolean" },
  "stop-timeout": { type: "string" },
  jobs: { type: "string" },
  "heal-schedule": { type: "string" },
  "trash-retention": { type: "string" },
  "restart-outdated": { type: "boolean" },
  "retry-delay": { type: "string" },
  "max-crashes": { type: "string" },
  "crash-window": { type: "string" },
  follow: { type: "boolean", short: "f" },
  lines: { type: "string", short: "n" },
  names: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

export const commandOptions: Record<string, readonly string[]> = {
  reconcile: ["dry-run", "json", "force", "detailed-exitcode", "no-wait", "no-restart", "jobs", "stop-timeout"],
  validate: [],
  status: ["json"],
  open: ["no-wait"],
  stop: ["no-wait", "stop-timeout"],
  watch: ["heal-schedule", "trash-retention", "restart-outdated", "retry-delay", "max-crashes", "crash-window", "jobs"],
  service: ["heal-schedule", "trash-retention", "restart-outdated", "retry-delay", "max-crashes", "crash-window", "jobs"],
  logs: ["follow", "lines"],
  handler: [],
  completion: [],
  sites: ["names"],
};

// How many words each command takes after its name; the rest take none.
const commandArguments: Record<string, number> = { open: 1, stop: 1, logs: 1, handler: 1, completion: 1, service: 1 };

export const main = async (argv: readonly string[], output: Output): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...rest] = positionals;
  if (values.version === true) {
    output.out(version);
    return exitCodes.ok;
  }
  if (command === "help" && rest[0] !== undefined && helpTexts[rest[0]] === undefined) {
    throw new UsageError(`unknown command ${JSON.stringify(rest[0])} for ffvm help; commands: ${Object.keys(commandOptions).join(", ")}`);
  }
  if (command === undefined && values.help !== true) {
    // A usage error: the help goes to stderr, as other usage errors do.
    output.err(helpTexts.main!);
    return exitCodes.usage;
  }
  if (command === undefined || command === "help") {
    output.out(helpTexts[rest[0] ?? "main"]!);
    return exitCodes.ok;
  }
  const allowed = commandOptions[command];
  if (allowed === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}; commands: ${Object.keys(commandOptions).join(", ")}`);
  if (values.help === true) {
    output.out(helpTexts[command]!);
    return exitCodes.ok;
  }
  for (const name of Object.keys(values)) {
    if (!["config", "state-dir", ...allowed].includes(name)) throw new UsageError(`ffvm ${command} has no --${name} option`);
  }

  // A stray word would otherwise be ignored, and `ffvm reconcile bank` would
  // reconcile every site.
  const maxArguments = commandArguments[command] ?? 0;
  if (rest.length > maxArguments) {
    throw new UsageError(`ffvm ${command} takes ${maxArguments === 0 ? "no arguments" : `at most ${maxArguments}`}, got ${rest.map((word) => JSON.stringify(word)).join(" ")}; see ffvm ${command} --help`);
  }

  const configFile = chooseConfigFile(values.config);
  const stateDir = values["state-dir"];
  const wait = values["no-wait"] !== true;
  switch (command) {
    case "reconcile": {
      const { runReconcile } = await loadCommand(import("./commands/reconcile.js"), command);
      return runReconcile(
        {
          configFile,
          stateDir,
          dryRun: values["dry-run"] === true,
          json: values.json === true,
          force: values.force === true,
          detailedExitCode: values["detailed-exitcode"] === true,
          wait,
          restartOutdated: values["no-restart"] !== true,
          vmConcurrency: parseJobs(values.jobs),
          powerdownTimeoutMs: parseStopTimeout(values["stop-timeout"]),
        },
        output,
      );
    }
    case "validate": {
      const { runValidate } = await loadCommand(import("./commands/validate.js"), command);
      return runValidate(configFile, output);
    }
    case "status": {
      const { runStatus } = await loadCommand(import("./commands/status.js"), command);
      return runStatus({ configFile, stateDir, json: values.json === true }, output);
    }
    case "open": {
      const target = requireOne(rest, command);
      const { runOpen } = await loadCommand(import("./commands/open.js"), command);
      return runOpen({ configFile, stateDir, target, wait }, output);
    }
    case "stop": {
      const site = requireOne(rest, command);
      const { runStop } = await loadCommand(import("./commands/site.js"), command);
      return runStop({ configFile, stateDir, site, wait, powerdownTimeoutMs: parseStopTimeout(values["stop-timeout"]) }, output);
    }
    case "logs": {
      const site = requireOne(rest, command);
      const { parseLines, runLogs } = await loadCommand(import("./commands/logs.js"), command);
      return runLogs({ configFile, stateDir, site, follow: values.follow === true, lines: parseLines(values.lines) }, output);
    }
    case "handler": {
      const { runHandler } = await loadCommand(import("./commands/handler.js"), command);
      return runHandler(rest, { configFile, stateDir }, output);
    }
    case "completion": {
      const { runCompletion } = await loadCommand(import("./commands/completion.js"), command);
      return runCompletion(rest, { options: optionSpec, commands: commandOptions }, output);
    }
    case "sites": {
      const { runSites } = await loadCommand(import("./commands/completion.js"), command);
      return runSites(configFile, output);
    }
    case "watch": {
      if (rest.length > 0) throw new UsageError(`ffvm watch takes no arguments, got ${JSON.stringify(rest.join(" "))}`);
      const { runWatch } = await loadCommand(import("./commands/watch.js"), command);
      return runWatch({ configFile, stateDir, flags: values, vmConcurrency: parseJobs(values.jobs) }, output);
    }
    case "service": {
      const { runService } = await loadCommand(import("./commands/service.js"), command);
      return runService(rest, { configFile, stateDir, flags: values, vmConcurrency: parseJobs(values.jobs) }, output);
    }
  }
  return exitCodes.usage;
};

// parseArgs reads "--jobs -1" as an option without its value. Joined as
// "--jobs=-1", the value reaches the range check and its message.
const joinNegativeValues = (argv: readonly string[]): string[] => {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const name = argv[index]!.startsWith("--") ? argv[index]!.slice(2) : undefined;
    const value = argv[index + 1];
    const takesValue = name !== undefined && (optionSpec as Record<string, { type: string }>)[name]?.type === "string";
    if (takesValue && value !== undefined && /^-\d/.test(value)) {
      joined.push(`--${name}=${value}`);
      index++;
    } else {
      joined.push(argv[index]!);
    }
  }
  return joined;
};

/** A command whose code cannot be loaded: a file of the executable is missing or damaged. */
class CommandLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandLoadError";
  }
}

// The executable keeps each command in a file of its own (scripts/bundle.mjs).
// One that is missing or damaged is named in one line, not shown as a stack trace.
const loadCommand = async <T>(loading: Promise<T>, command: string): Promise<T> => {
  let loaded: T;
  try {
    loaded = await loading;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new CommandLoadError(`loading the code of ffvm ${command} failed (${reason}); the installation is damaged, so reinstall ffvm`);
  }
  // An empty file loads, and exports no function.
  if (!Object.values(loaded as object).some((value) => typeof value === "function")) throw new CommandLoadError(`the code of ffvm ${command} is empty; the installation is damaged, so reinstall ffvm`);
  return loaded;
};

const parseCommandLine = (argv: readonly string[]) => {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: optionSpec, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
};

const requireOne = (rest: readonly string[], command: string): string => {
  if (rest.length !== 1) {
    const what = command === "open" ? "site name or URL" : "site name";
    throw new UsageError(`ffvm ${command} takes exactly one ${what}, for example: ffvm ${command} bank`);
  }
  return rest[0]!;
};

const parseJobs = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, got ${JSON.stringify(text)}`);
  return jobs;
};

const parseStopTimeout = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw new UsageError(`--stop-timeout must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(text)}`);
  }
  return seconds * 1000;
};

// Errors are matched by name, not class: in the ffvm executable each command
// is a file of its own with its own copy of these classes (scripts/bundle.mjs).
const isNamedError = <T extends Error = Error>(error: unknown, name: string): error is T => error instanceof Error && error.name === name;

// Turns an error into output and an exit code.
export const reportError = (error: unknown, output: Output): number => {
  if (isNamedError<ExitError>(error, "ExitError")) return error.exitCode;
  if (isNamedError(error, "UsageError")) {
    output.err(`ffvm: ${error.message}\nRun 'ffvm --help' for usage.`);
    return exitCodes.usage;
  }
  if (isNamedError<ConfigError>(error, "ConfigError")) {
    output.err(error.message);
    const count = error.problems.filter((problem) => problem.severity === "error").length;
    const file = error.problems[0]?.file ?? "sites.yaml";
    output.err(`ffvm: ${count} ${count === 1 ? "error" : "errors"} in ${file}; nothing was changed`);
    return exitCodes.error;
  }
  if (error instanceof CommandLoadError || isNamedError(error, "LockBusyError")) {
    output.err(`ffvm: ${error.message}`);
    return exitCodes.error;
  }
  output.err(`ffvm: ${(error as Error).stack ?? String(error)}`);
  return exitCodes.error;
};
