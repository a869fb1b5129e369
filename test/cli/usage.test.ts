// The command line's own messages: usage errors go to stderr with exit 64,
// requested help to stdout with exit 0, and colour follows each stream.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ffvmBin } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ffvm-usage-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: NodeJS.ProcessEnv = { NO_COLOR: "1" }) =>
  spawnSync(process.execPath, [ffvmBin, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

describe("usage", () => {
  it("prints help to stderr without command", () => {
    const result = run([]);
    expect(result.status).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Usage: ffvm <command> [options]");
  });

  it("prints requested help to stdout", () => {
    for (const args of [["--help"], ["help"], ["help", "reconcile"], ["reconcile", "--help"]]) {
      const result = run(args);
      expect(result.status, args.join(" ")).toBe(0);
      expect(result.stdout, args.join(" ")).toMatch(/Usage: ffvm/);
    }
  });

  it("rejects help for unknown command", () => {
    const result = run(["help", "nosuch"]);
    expect(result.status).toBe(64);
    expect(result.stderr).toBe(
      'ffvm: unknown command "nosuch" for ffvm help; commands: reconcile, validate, status, open, stop, watch, service, logs, handler, completion, sites\nRun \'ffvm --help\' for usage.\n',
    );
  });

  it("stops unknown site without state directory", () => {
    const config = join(dir, "one-site.yaml");
    writeFileSync(config, "sites:\n  bank:\n    url: https://bank.example/\nimage:\n  runner: /bin/false\n");
    const state = join(dir, "stop-state");
    const result = run(["stop", "bnak", "--config", config, "--state-dir", state]);
    expect(result.status).toBe(64);
    expect(result.stderr).toContain(`site "bnak" is not in ${config} and has no VM or disk; sites: bank`);
    expect(existsSync(state)).toBe(false);
  });

  it("names option range for negative value", () => {
    expect(run(["reconcile", "--jobs", "-1"]).stderr).toBe('ffvm: --jobs must be a whole number from 1 to 64, got "-1"\nRun \'ffvm --help\' for usage.\n');
    expect(run(["stop", "bank", "--stop-timeout", "-5"]).stderr).toBe(
      'ffvm: --stop-timeout must be a whole number of seconds from 1 to 3600, got "-5"\nRun \'ffvm --help\' for usage.\n',
    );
  });

  it("keeps colour off redirected stderr", () => {
    const config = join(dir, "sites.yaml");
    writeFileSync(config, "sites:\n  a:\n    url: https://a.example/\n    match: [same.example]\n  b:\n    url: https://b.example/\n    match: [same.example]\nimage:\n  runner: /bin/false\n");
    // script(1) gives the command a terminal for stdout, and stderr goes to a file.
    const command = `node ${ffvmBin} reconcile --dry-run --config ${config} --state-dir ${dir}/state 2>${dir}/stderr`;
    spawnSync("script", ["-qc", command, "/dev/null"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "", TERM: "xterm" } });
    const stderr = readFileSync(join(dir, "stderr"), "utf8");
    expect(stderr).toContain("warning: sites.b.match.0");
    expect(stderr).not.toContain("\u001b[");
  });
});
