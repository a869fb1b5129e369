// Shell completion: the scripts parse, and bash and fish complete commands,
// options and site names through a real ffvm on PATH.

import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { ffvmBin, runFfvm } from "../helpers/cli.js";

const hasCommand = async (name: string): Promise<boolean> => (await execa("sh", ["-c", `command -v ${name}`], { reject: false })).exitCode === 0;

describe("ffvm completion", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffvm-completion-"));
  const bin = join(dir, "bin");
  const config = join(dir, "my sites.yaml");
  const scripts: Record<string, string> = {};
  // The scripts call ffvm by name, as an installed ffvm is called.
  const env = { PATH: `${bin}:${process.env.PATH ?? ""}`, XDG_CONFIG_HOME: join(dir, "config") };

  beforeAll(async () => {
    await execa("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "ffvm"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(ffvmBin)} "$@"\n`);
    chmodSync(join(bin, "ffvm"), 0o755);
    writeFileSync(config, "sites:\n  bank:\n    url: https://bank.example\n  nixos:\n    url: https://nixos.org\n  nixpkgs:\n    url: https://github.com/nixos/nixpkgs\n");
    for (const shell of ["bash", "zsh", "fish"]) {
      const result = await runFfvm(["completion", shell]);
      expect(result.exitCode).toBe(0);
      scripts[shell] = join(dir, `ffvm.${shell}`);
      writeFileSync(scripts[shell]!, result.stdout);
    }
  });

  it("rejects an unknown shell", async () => {
    const result = await runFfvm(["completion", "tcsh"]);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("ffvm completion takes one shell: bash, zsh, fish");
  });

  it("prints site names for the scripts", async () => {
    const result = await runFfvm(["sites", "--names", "--config", config]);
    expect(result.stdout.split("\n")).toEqual(["bank", "nixos", "nixpkgs"]);
  });

  describe("bash", () => {
    // Runs the completion function as bash would for the words of a command line.
    const complete = async (...words: string[]): Promise<string[]> => {
      const quoted = words.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
      const script = `source ${JSON.stringify(scripts.bash)}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _ffvm; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = await execa("bash", ["-c", script], { env, reject: false });
      expect(result.stderr).toBe("");
      return result.stdout.split("\n").filter((line) => line !== "");
    };

    it("parses with bash -n", async () => {
      const result = await execa("bash", ["-n", scripts.bash!], { reject: false });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
    });

    it("completes commands", async () => {
      expect(await complete("ffvm", "re")).toEqual(["reconcile"]);
      expect(await complete("ffvm", "")).toEqual(expect.arrayContaining(["reconcile", "open", "logs", "handler", "completion", "--help"]));
      expect(await complete("ffvm", "")).not.toContain("sites");
    });

    it("completes options of a command", async () => {
      expect(await complete("ffvm", "logs", "--")).toEqual(["--follow", "--lines", "--config", "--state-dir", "--help"]);
      expect(await complete("ffvm", "reconcile", "--d")).toEqual(["--dry-run", "--detailed-exitcode"]);
    });

    it("completes site names from --config", async () => {
      expect(await complete("ffvm", "open", "--config", config, "nix")).toEqual(["nixos", "nixpkgs"]);
      expect(await complete("ffvm", "--config", config, "logs", "")).toEqual(["bank", "nixos", "nixpkgs"]);
      expect(await complete("ffvm", "stop", `--config=${config}`, "b")).toEqual(["bank"]);
    });

    it("completes only the first argument", async () => {
      expect(await complete("ffvm", "open", "--config", config, "bank", "")).toEqual([]);
    });

    it("completes fixed words", async () => {
      expect(await complete("ffvm", "handler", "")).toEqual(["install", "uninstall"]);
      expect(await complete("ffvm", "completion", "z")).toEqual(["zsh"]);
    });

    it("completes nothing for a number option", async () => {
      expect(await complete("ffvm", "logs", "--lines", "")).toEqual([]);
    });
  });

  describe("zsh", () => {
    it("parses with zsh -n", async (context) => {
      if (!(await hasCommand("zsh"))) context.skip();
      const result = await execa("zsh", ["-n", scripts.zsh!], { reject: false });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
    });
  });

  describe("fish", () => {
    const complete = async (line: string): Promise<string[]> => {
      const result = await execa("fish", ["--no-config", "-c", `source ${JSON.stringify(scripts.fish)}; complete -C ${JSON.stringify(line)}`], { env, reject: false });
      expect(result.stderr).toBe("");
      return result.stdout.split("\n").filter((entry) => entry !== "").map((entry) => entry.split("\t")[0]!);
    };

    it("parses with fish --no-execute", async (context) => {
      if (!(await hasCommand("fish"))) context.skip();
      const result = await execa("fish", ["--no-execute", scripts.fish!], { reject: false });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
    });

    it("completes commands, options and sites", async (context) => {
      if (!(await hasCommand("fish"))) context.skip();
      expect(await complete("ffvm rec")).toEqual(["reconcile"]);
      expect(await complete("ffvm logs --l")).toEqual(["--lines"]);
      expect(await complete(`ffvm open --config '${config}' nix`)).toEqual(["nixos", "nixpkgs"]);
      expect(await complete(`ffvm --config '${config}' stop `)).toEqual(["bank", "nixos", "nixpkgs"]);
    });
  });
});
