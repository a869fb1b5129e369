// Parses the command line and dispatches to one command; the one place that
// turns errors into exit codes.

import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors.js";
import { LockBusyError } from "../state/lock.js";
import { chooseConfigFile } from "./config-file.js";
import { ExitError, exitCodes, UsageError } from "./exit.js";
import { helpTexts, version } from "./help.js";
import { processOutput, type Output } from "./output.js";

const optionSpec = {
  config: { type: "string" },
  "state-dir": { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  force: { type: "boolean" },
  "detailed-exitcode": { type: "boolean" },
  "no-wait": { type: "boolean" },
  "no-restart": { type: "boolean" },
  jobs: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

const commandOptions: Record<string, readonly string[]> = {
  reconcile: ["dry-run", "json", "force", "detailed-exitcode", "no-wait", "no-restart", "jobs"],
  validate: [],
  status: ["json"],
  open: ["no-wait"],
  stop: ["no-wait"],
};

export const main = async (argv: readonly string[], output: Output): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...rest] = positionals;
  if (values.version === true) {
    output.out(version);
    return exitCodes.ok;
  }
  if (command === undefined || command === "help") {
    output.out(helpTexts[rest[0] ?? "main"] ?? helpTexts.main!);
    return command === undefined && values.help !== true ? exitCodes.usage : exitCodes.ok;
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

  const configFile = chooseConfigFile(values.config);
  const stateDir = values["state-dir"];
  const wait = values["no-wait"] !== true;
  switch (command) {
    case "reconcile": {
      const { runReconcile } = await import("./commands/reconcile.js");
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
        },
        output,
      );
    }
    case "validate": {
      const { runValidate } = await import("./commands/validate.js");
      return runValidate(configFile, output);
    }
    case "status": {
      const { runStatus } = await import("./commands/status.js");
      return runStatus({ configFile, stateDir, json: values.json === true }, output);
    }
    case "open":
    case "stop": {
      const site = requireOne(rest, command);
      const { runOpen, runStop } = await import("./commands/site.js");
      return (command === "open" ? runOpen : runStop)({ configFile, stateDir, site, wait }, output);
    }
  }
  return exitCodes.usage;
};

const parseCommandLine = (argv: readonly string[]) => {
  try {
    return parseArgs({ args: [...argv], options: optionSpec, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
};

const requireOne = (rest: readonly string[], command: string): string => {
  if (rest.length !== 1) throw new UsageError(`ffvm ${command} takes exactly one site name, for example: ffvm ${command} bank`);
  return rest[0]!;
};

const parseJobs = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, got ${JSON.stringify(text)}`);
  return jobs;
};

// Turns an error into output and an exit code.
export const reportError = (error: unknown, output: Output): number => {
  if (error instanceof ExitError) return error.exitCode;
  if (error instanceof UsageError) {
    output.err(`ffvm: ${error.message}\nRun 'ffvm --help' for usage.`);
    return exitCodes.usage;
  }
  if (error instanceof ConfigError) {
    output.err(error.message);
    output.err(`ffvm: ${error.problems.filter((problem) => problem.severity === "error").length} error(s) in sites.yaml; nothing was changed`);
    return exitCodes.error;
  }
  if (error instanceof LockBusyError) {
    output.err(`ffvm: ${error.message}`);
    return exitCodes.error;
  }
  output.err(`ffvm: ${(error as Error).stack ?? String(error)}`);
  return exitCodes.error;
};
