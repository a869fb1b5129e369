// The compile caches of the built executable are written by the build and
// accepted by V8 under the node that built them. A cache that does not fit
// changes nothing, and a missing or damaged command file is named in one line.

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ffvmBin } from "../helpers/cli.js";

const binDir = dirname(ffvmBin);
const example = new URL("../../sites.example.yaml", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "ffvm-compile-cache-test-"));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const run = (bin: string, args: string[]): { stdout: string; status: number } => {
  try {
    return { stdout: execFileSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }), status: 0 };
  } catch (error) {
    const failed = error as { stdout: string; status: number };
    return { stdout: failed.stdout, status: failed.status };
  }
};

describe("compile caches", () => {
  it("exist for built command files", () => {
    const caches = readdirSync(binDir).filter((name) => name.endsWith(".cache"));
    expect(caches).toEqual(expect.arrayContaining(["reconcile.cjs.cache", "validate.cjs.cache", "status.cjs.cache"]));
  });

  it("are accepted by the building node", () => {
    const check = [
      'const { readFileSync } = require("node:fs");',
      'const { Script } = require("node:vm");',
      'const Module = require("node:module");',
      "const file = process.argv[1];",
      // The cache starts with the length of the file's text and the text.
      'const cache = readFileSync(file + ".cache");',
      'const script = new Script(Module.wrap(readFileSync(file, "utf8")), { filename: file, cachedData: cache.subarray(4 + cache.readUInt32LE(0)) });',
      "process.stdout.write(String(script.cachedDataRejected));",
    ].join("\n");
    for (const name of ["reconcile.cjs", "validate.cjs", "status.cjs"]) {
      expect(execFileSync(process.execPath, ["-e", check, join(binDir, name)], { encoding: "utf8" }), name).toBe("false");
    }
  });

  it("are skipped for edited files", () => {
    const copy = join(scratch, "edited");
    cpSync(binDir, copy, { recursive: true });
    // The same length, which is all V8 itself compares.
    const file = join(copy, "validate.cjs");
    const source = readFileSync(file, "utf8");
    expect(source).toContain("valid, ");
    writeFileSync(file, source.replace("valid, ", "VALID, "));
    expect(run(join(copy, "ffvm.cjs"), ["validate", "--config", example]).stdout).toContain("VALID, 4 sites");
  });

  it("leave output unchanged when damaged", () => {
    const copy = join(scratch, "bin");
    cpSync(binDir, copy, { recursive: true });
    writeFileSync(join(copy, "reconcile.cjs.cache"), readFileSync(join(copy, "reconcile.cjs.cache")).subarray(0, 1000));
    for (const name of readdirSync(copy).filter((file) => file.startsWith("validate") && file.endsWith(".cache"))) rmSync(join(copy, name));
    const state = join(scratch, "state");
    for (const args of [["reconcile", "--dry-run", "--config", example, "--state-dir", state], ["validate", "--config", example]]) {
      const cached = run(ffvmBin, args);
      expect(cached.status).toBe(0);
      expect(run(join(copy, "ffvm.cjs"), args)).toEqual(cached);
    }
  });
});

describe("a damaged command file", () => {
  it.each([
    ["missing", "status", (file: string) => rmSync(file), "loading the code of ffvm status failed (Cannot find module './status.cjs')"],
    ["empty", "validate", (file: string) => writeFileSync(file, ""), "the code of ffvm validate is empty"],
    // A stray brace gives the same syntax error wherever the build puts things.
    ["broken", "completion", (file: string) => writeFileSync(file, `${readFileSync(file, "utf8")}\n}`), "loading the code of ffvm completion failed (Unexpected token '}')"],
  ])("is named in one line when %s", (_case, command, damage, problem) => {
    const copy = join(scratch, `damaged-${command}`);
    cpSync(binDir, copy, { recursive: true });
    rmSync(join(copy, `${command}.cjs.cache`), { force: true });
    damage(join(copy, `${command}.cjs`));
    const args = command === "completion" ? ["completion", "bash"] : [command, "--config", example, "--state-dir", join(scratch, "state")];
    const result = spawnSync(process.execPath, [join(copy, "ffvm.cjs"), ...args], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ffvm: ${problem}; the installation is damaged, so reinstall ffvm\n`);
  });
});
